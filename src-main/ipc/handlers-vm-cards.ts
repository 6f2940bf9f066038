/**
 * The VM and card-list side of the contract: VM status, doctor, setup/start/stop jobs and the
 * terminal, plus the list of cards in the readers. The VM itself is behind `VmBackend`:
 *   - a Linux build host needs no VM (`localHostVm`): the tools run here, the doctor checks them
 *     with tool_versions.sh and the terminal is a login shell on this host;
 *   - a Mac has the atlas-build Lima VM (`limaVm`, on src-main/core/lima/vm.ts and doctor.ts).
 * The card list comes from core/cards/drive-list.ts: every disk with the host layer's reasons
 * when it must not be written, identified the way the phases identify a card.
 */
import { identifyRawCard } from '../core/card-io/raw-disk.js';
import { homedir } from 'node:os';
import { AtlasError } from '../core/errors.js';
import { startJob } from '../core/jobs/job.js';
import type { Builder } from '../core/builder/builder.js';
import { listCards, type DriveCandidate, type ListCardsOptions } from '../core/cards/drive-list.js';
import { Limactl, type VmState as LimaVmState } from '../core/lima/limactl.js';
import { limactlNotFound } from '../core/lima/locate.js';
import { VM_NAME } from '../core/lima/lima-builder.js';
import { vmSetup, vmShellArgs, vmStart, vmStatus, vmStop, type VmInfo } from '../core/lima/vm.js';
import { runDoctor } from '../core/lima/doctor.js';
import type {
  CardCandidate,
  CardRef,
  DoctorReportDto,
  InvokeArgs,
  InvokeResult,
  VmState,
  VmStatusDto,
} from './contract.js';
import type { VmJobs } from './job-specs.js';
import { reasonOf, toRef } from './cards.js';
import type { ProtectedPlace } from '../core/cards/target-guards.js';
import type { ShellCommand, TerminalSessions } from './terminal-sessions.js';
import { formatBytes } from '../common/format-bytes.js';

export interface VmBackend extends VmJobs {
  status(): Promise<VmStatusDto>;
  doctor(): Promise<DoctorReportDto>;
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
  const noVm = async (): Promise<VmStatusDto> => {
    throw new AtlasError(
      'unsupported',
      'there is no VM to manage on a Linux build host',
      'the disk tools run on this host; the atlas-build VM is for Macs',
    );
  };
  return {
    status,
    setup: noVm,
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

/** A drive-list candidate as the renderer's card: identified as the phases will identify it. */
export async function toCardCandidate(d: DriveCandidate): Promise<CardCandidate> {
  const reasons = [...d.reasons];
  let ref: CardRef;
  try {
    ref = toRef(await identifyRawCard(d.device));
  } catch (e) {
    reasons.push(reasonOf(e));
    ref = { path: d.device, kind: 'device', bytes: d.size, node: 0 };
  }
  const details = [d.model, d.serial].filter(Boolean).join(' ');
  return {
    ref,
    description: `${d.device} ${details || d.description} (${formatBytes(d.size, { unit: 'GB' })})`,
    removable: d.removable,
    readOnly: d.readOnly,
    usable: reasons.length === 0,
    reasons,
    ...(d.confirm ? { confirm: d.confirm } : {}),
  };
}

/** Every disk from drive-list.ts, virtual ones (zram, swap) left out; system disks stay, with their reasons. */
export async function listCardCandidates(options: ListCardsOptions = {}): Promise<CardCandidate[]> {
  const drives = (await listCards(options)).filter((d) => !d.isVirtual || options.allowVirtual);
  return Promise.all(drives.map(toCardCandidate));
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
          ...(c.action && !c.ok ? { action: c.action } : {}),
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

type Handler<K extends VmCardsChannel> = (...args: InvokeArgs<K>) => Promise<InvokeResult<K>>;
type VmCardsChannel =
  | 'cards:list'
  | 'vm:status'
  | 'vm:doctor'
  | 'terminal:open'
  | 'terminal:input'
  | 'terminal:resize'
  | 'terminal:close';

export type VmCardsHandlers = { [K in VmCardsChannel]: Handler<K> };

export function createVmCardsHandlers(deps: {
  vm: VmBackend;
  terminals: TerminalSessions;
  listCards?: () => Promise<CardCandidate[]>;
  /** The places whose disks are never written (the library, the staging folder, the archive). */
  places?: () => Promise<ProtectedPlace[]>;
}): VmCardsHandlers {
  const { vm, terminals } = deps;
  return {
    'cards:list': async () =>
      deps.listCards
        ? deps.listCards()
        : listCardCandidates(deps.places ? { places: await deps.places() } : {}),
    'vm:status': () => vm.status(),
    'vm:doctor': () => vm.doctor(),
    'terminal:open': async (cols, rows) => terminals.open(await vm.shell(), cols, rows),
    'terminal:input': async (id, data) => {
      terminals.input(id, data);
      return null;
    },
    'terminal:resize': async (id, cols, rows) => {
      terminals.resize(id, cols, rows);
      return null;
    },
    'terminal:close': async (id) => {
      terminals.close(id);
      return null;
    },
  };
}
