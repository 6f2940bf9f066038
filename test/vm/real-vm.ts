/**
 * Boots the test VM (test/vm/bin/limactl: a Debian guest in QEMU) as the app's Lima code sees it
 * on a Mac: its own LIMA_HOME, the template exactly as shipped, a scratch folder as the home (`~`,
 * shared read-only) and the library in its default place inside it (`~/atlas-build`), owner-only
 * (0700) and belonging to the uid of the guest's default user, as Lima gives the guest user the
 * host user's uid. The front mounts the template's folders in template order, as Lima does, so a
 * template whose read-only home covered the work folder would fail here. Used by the real-VM test
 * and by `npm run bench:vm`.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src-main/core/paths.js';
import { startJob } from '../../src-main/core/jobs/job.js';
import { Limactl } from '../../src-main/core/lima/limactl.js';
import { LimaBuilder } from '../../src-main/core/lima/lima-builder.js';
import { vmSetup } from '../../src-main/core/lima/vm.js';
import { ensureHelperBundle } from '../helpers/helper-bundle.js';

export const FRONT = join(PACKAGE_ROOT, 'test', 'vm', 'bin');
export const VM = 'atlas-build';
export const GUEST_WORK = '/mnt/atlas-work';
/** The uid of the guest's default user (test/vm/bin/limactl: a Mac's first user). */
export const GUEST_UID = 501;
const ENV_KEYS = ['PATH', 'HOME', 'LIMA_HOME', 'ATLAS_LIMACTL', 'ATLAS_TESTVM_OWNER_PID'] as const;

export interface RealVm {
  lima: Limactl;
  builder: LimaBuilder;
  /** The work folder on the host (GUEST_WORK in the guest). */
  shared: string;
  limaHome: string;
  /** Milliseconds the setup job took (image, boot, provision). */
  setupMs: number;
  /** Deletes the VM, kills what is left of it and restores the environment. */
  release(): Promise<void>;
}

/** Whether this host can boot the test VM (root, QEMU, debootstrap for the image). */
export const canRunRealVm = (): boolean =>
  process.getuid?.() === 0 &&
  spawnSync('qemu-system-x86_64', ['--version']).status === 0 &&
  spawnSync('debootstrap', ['--version']).status === 0;

/** Live processes whose command line mentions `text` (zombies do not count). */
export function liveProcessesMentioning(text: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
      if (state !== 'Z' && cmd.includes(text)) out.push(`${pid} ${cmd}`);
    } catch {
      /* gone */
    }
  }
  return out;
}

/** QEMU and ssh processes started for this LIMA_HOME (their command lines name its folder). */
export const qemuProcesses = (limaHome: string): string[] =>
  liveProcessesMentioning(limaHome).filter((p) => /qemu-system|ssh /.test(p));

/** Sets the VM up in `dir` (work folder `dir/atlas-build`); QEMU dies with this process. */
export async function startRealVm(dir: string): Promise<RealVm> {
  const saved: Partial<Record<(typeof ENV_KEYS)[number], string>> = {};
  for (const k of ENV_KEYS) if (process.env[k] !== undefined) saved[k] = process.env[k];
  const limaHome = mkdtempSync('/tmp/alh-vm-');
  const killLeftovers = (): void => {
    spawnSync(join(FRONT, 'limactl'), ['delete', '--force', VM], {
      env: { ...process.env, LIMA_HOME: limaHome },
    });
  };
  process.on('exit', killLeftovers);
  let lima: Limactl | undefined;
  const release = async (): Promise<void> => {
    await lima?.delete(VM, { force: true }).catch(() => undefined);
    killLeftovers();
    process.off('exit', killLeftovers);
    for (const k of ENV_KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    if (qemuProcesses(limaHome).length === 0) rmSync(limaHome, { recursive: true, force: true });
  };
  try {
    ensureHelperBundle();
    const home = join(dir, 'home');
    mkdirSync(home);
    const shared = join(home, 'atlas-build');
    mkdirSync(shared, { mode: 0o700 });
    chownSync(shared, GUEST_UID, GUEST_UID);
    process.env.PATH = `${FRONT}:${process.env.PATH}`;
    process.env.HOME = home;
    process.env.LIMA_HOME = limaHome;
    delete process.env.ATLAS_LIMACTL;
    process.env.ATLAS_TESTVM_OWNER_PID = String(process.pid);
    const template = join(PACKAGE_ROOT, 'lima', 'atlas-build.yaml');
    const text = readFileSync(template, 'utf8');
    if (!text.includes(`mountPoint: ${GUEST_WORK}`))
      throw new Error(`lima/atlas-build.yaml: no mount at ${GUEST_WORK}`);
    lima = Limactl.locate();
    const l = lima;
    const t0 = Date.now();
    await startJob('vm-setup', (ctx) => vmSetup(l, { library: shared, template }, ctx)).promise;
    const setupMs = Date.now() - t0;
    const builder = await LimaBuilder.connect({ limactl: lima });
    return { lima, builder, shared, limaHome, setupMs, release };
  } catch (e) {
    await release();
    throw e;
  }
}
