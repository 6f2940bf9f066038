/**
 * The VM behind the VM screen, as one interface (`VmBackend`): status, doctor, setup/start/stop
 * jobs and the shell the terminal runs.
 *   - a Linux build host needs no VM (`localHostVm`): the tools run here, the doctor checks them
 *     with tool_versions.sh and the terminal is a login shell on this host;
 *   - a Mac has the atlas-build Lima VM (`limaVm`, on src-main/core/lima/vm.ts and doctor.ts).
 */
import { homedir } from 'node:os';
import { AtlasError } from '../core/errors.js';
import { startJob } from '../core/jobs/job.js';
import type { Builder } from '../core/builder/builder.js';
import { Limactl, type VmState as LimaVmState } from '../core/lima/limactl.js';
import { limactlNotFound } from '../core/lima/locate.js';
import { VM_NAME } from '../core/lima/lima-builder.js';
import { vmSetup, vmShellArgs, vmStart, vmStatus, vmStop, type VmInfo } from '../core/lima/vm.js';
import { runDoctor } from '../core/lima/doctor.js';
import { vmUpgrade } from '../core/lima/vm-upgrade.js';
import { recreatePreview, vmRecreate, type VmRecreatePreview } from '../core/lima/vm-recreate.js';
import type { DoctorReportDto, VmState, VmStatusDto } from '../common/contract.js';
import type { VmJobs } from './job-specs.js';
import type { ShellCommand } from './terminal-sessions.js';
import { vmJobOf } from '../common/next-steps.js';

export interface VmBackend extends VmJobs {
  status(): Promise<VmStatusDto>;
  doctor(): Promise<DoctorReportDto>;
  /** What recreating the VM would delete; changes nothing. */
  recreatePreview(): Promise<VmRecreatePreview>;
  /** What the terminal runs: `limactl shell --workdir … atlas-build`, or a shell on this host. */
  shell(): Promise<ShellCommand>;
}

/** A Linux build host: the builder scripts run here as root, so there is no VM to manage. */
export function localHostVm(builder: Builder): VmBackend {
  const status = async (): Promise<VmStatusDto> => ({
    needed: false,
    name: 'atlas-build',
    state: 'not-needed',
    detail: `The disk tools run on ${builder.describe()}: no VM is needed.`,
    terminal: true,
  });
  const noVm = async (): Promise<never> => {
    throw new AtlasError(
      'unsupported',
      'there is no VM to manage on a Linux build host',
      'the disk tools run on this host; the atlas-build VM is for Macs',
    );
  };
  return {
    status,
    setup: noVm,
    upgrade: noVm,
    recreate: noVm,
    recreatePreview: noVm,
    start: noVm,
    stop: noVm,
    async doctor() {
      const job = startJob('doctor', (ctx) => builder.runScript('tool_versions.sh', [], ctx));
      const out = await job.promise;
      const findings = (out.results.get('tool') ?? []).map((line) => {
        const [name = '?', version = 'unknown'] = line.split(' ');
        const ok = version !== 'missing';
        return {
          id: `tool-${name}`,
          ok,
          severity: ok ? ('info' as const) : ('error' as const),
          message: ok ? `${name} ${version}` : `${name} is not installed`,
          ...(ok ? {} : { hint: 'install the disk tools: sudo bash scripts/setup.sh' }),
        };
      });
      return { ok: findings.every((f) => f.ok), findings };
    },
    async shell() {
      const file = process.env.SHELL || '/bin/bash';
      return { file, args: ['-l'], cwd: homedir(), title: `${builder.describe()} — ${file}` };
    },
  };
}

const LIMA_STATE: Record<LimaVmState, VmState> = {
  missing: 'not-created',
  Uninitialized: 'stopped',
  Installing: 'installing',
  Broken: 'broken',
  Stopped: 'stopped',
  Running: 'running',
  Unknown: 'unknown',
};

function limaStatusDto(info: VmInfo): VmStatusDto {
  const facts = [info.vmType, info.arch, info.cpus ? `${info.cpus} CPUs` : undefined].filter(Boolean);
  const parts = [`${info.name}: ${info.state === 'missing' ? 'not set up yet' : info.state}`];
  if (facts.length) parts[0] += ` (${facts.join(', ')})`;
  if (info.libraryInVm) parts.push(`the library is ${info.libraryInVm} in the VM`);
  if (info.cause) parts.push(info.cause);
  return {
    needed: true,
    name: info.name,
    state: LIMA_STATE[info.state],
    detail: parts.join('; '),
    terminal: info.state === 'Running',
  };
}

/** A Mac: the atlas-build Lima VM (src-main/core/lima), sharing the library read-write. */
export function limaVm(library: string, find: () => Limactl | undefined = () => Limactl.find()): VmBackend {
  const limactl = (): Limactl => {
    const l = find();
    if (!l) throw limactlNotFound();
    return l;
  };
  return {
    async status() {
      const l = find();
      if (!l) {
        const e = limactlNotFound();
        return {
          needed: true,
          name: VM_NAME,
          state: 'no-limactl',
          detail: `${e.message} — ${e.hint}`,
          terminal: false,
        };
      }
      return limaStatusDto(await vmStatus(l, { library }));
    },
    setup: async (ctx) => limaStatusDto(await vmSetup(limactl(), { library }, ctx)),
    upgrade: (ctx) => vmUpgrade(limactl(), { library }, ctx),
    recreatePreview: () => recreatePreview(limactl()),
    // What the user left unticked in the confirmation goes with the VM: they saw it listed.
    recreate: (ctx, o, store) =>
      vmRecreate(
        limactl(),
        { library, importSecrets: o.importSecrets, discardSecrets: !o.importSecrets },
        store,
        ctx,
      ),
    start: async (ctx) => limaStatusDto(await vmStart(limactl(), ctx, { library })),
    stop: async (ctx) => {
      ctx.step('vm-stop', `Stopping the ${VM_NAME} VM`);
      return limaStatusDto(await vmStop(limactl(), { library }));
    },
    async doctor() {
      const report = await startJob('doctor', (ctx) => runDoctor({ library }, ctx)).promise;
      return {
        ok: report.ok,
        findings: report.checks.map((c) => ({
          id: c.id,
          ok: c.ok,
          severity: c.ok ? ('info' as const) : c.skipped ? ('warn' as const) : ('error' as const),
          message: `${c.title}: ${c.detail}`,
          ...(c.fix && !c.ok ? { hint: c.fix } : {}),
          ...(c.next && !c.ok ? { next: c.next } : {}),
          ...(!c.ok && !c.skipped && vmJobOf(c.next) ? { action: vmJobOf(c.next) } : {}),
        })),
      };
    },
    async shell() {
      const l = limactl();
      const info = await vmStatus(l, { library });
      if (info.state !== 'Running') {
        throw new AtlasError('bad-input', `the ${info.name} VM is not running`, 'start it first');
      }
      const { command, args } = vmShellArgs(l, info);
      return { file: command, args, cwd: homedir(), title: `${info.name} — limactl ${args.join(' ')}` };
    },
  };
}
