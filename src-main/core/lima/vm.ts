/**
 * The atlas-build VM's life cycle, for `ods-sd vm …` and the desktop app's VM panel: set it up
 * (create from lima/atlas-build.yaml, sharing the library read-write, then start), start it
 * (repairing a Broken one), stop it, report its state, and the command line of a terminal in it.
 */
import { join, resolve } from 'node:path';
import type { JobContext } from '../jobs/job.js';
import { PACKAGE_ROOT } from '../paths.js';
import { ensureLibraryDir } from '../library/owner-only.js';
import { Limactl, vmMissing, type VmState } from './limactl.js';
import { sharedFolders, toGuestPath, type SharedFolder } from './shared-folders.js';
import { LimaBuilder, VM_NAME } from './lima-builder.js';
import { AtlasError } from '../errors.js';
import { SETUP_PLAN, START_PLAN, VM_STEPS } from './start-steps.js';

export const VM_TEMPLATE = join(PACKAGE_ROOT, 'lima', 'atlas-build.yaml');

export interface VmInfo {
  name: string;
  state: VmState;
  limactl: string;
  dir?: string;
  vmType?: string;
  arch?: string;
  cpus?: number;
  memoryBytes?: number;
  diskBytes?: number;
  limaVersion?: string;
  cause?: string;
  lastLogError?: string;
  sharedFolders: SharedFolder[];
  /** The library folder as the VM sees it, when the VM shares it read-write. */
  libraryInVm?: string;
}

export interface VmOptions {
  name?: string;
  /** The library (work dir): reported as the VM sees it. */
  library?: string;
}

export async function vmStatus(limactl: Limactl, options: VmOptions = {}): Promise<VmInfo> {
  const name = options.name ?? VM_NAME;
  const library = options.library;
  const s = await limactl.status(name);
  const info: VmInfo = { name, state: s.state, limactl: limactl.path, sharedFolders: [] };
  const i = s.instance;
  if (i) {
    info.dir = i.dir;
    if (i.vmType) info.vmType = i.vmType;
    if (i.arch) info.arch = i.arch;
    if (i.cpus) info.cpus = i.cpus;
    if (i.memory) info.memoryBytes = i.memory;
    if (i.disk) info.diskBytes = i.disk;
    if (i.limaVersion) info.limaVersion = i.limaVersion;
    info.sharedFolders = sharedFolders(i);
  }
  if (s.cause) info.cause = s.cause;
  if (s.lastLogError) info.lastLogError = s.lastLogError;
  if (library) {
    const g = toGuestPath(info.sharedFolders, library);
    if (g?.folder.writable) info.libraryInVm = g.guest;
  }
  return info;
}

export interface SetupResult extends VmInfo {
  created: boolean;
  started: boolean;
}

/**
 * Creates the VM if it does not exist (sharing `library` read-write), then starts it. Running it
 * again is harmless: an existing VM is only started (or repaired).
 */
export async function vmSetup(
  limactl: Limactl,
  options: { library: string; template?: string; name?: string },
  ctx: JobContext,
): Promise<SetupResult> {
  const name = options.name ?? VM_NAME;
  const library = resolve(options.library);
  let created = false;
  ctx.plan?.(SETUP_PLAN);
  ctx.step(VM_STEPS.create.id, VM_STEPS.create.label);
  if ((await limactl.status(name)).state === 'missing') {
    await ensureLibraryDir(library, ctx);
    ctx.log(`creating ${name} from ${options.template ?? VM_TEMPLATE}, sharing ${library} read-write`);
    await limactl.create(name, options.template ?? VM_TEMPLATE, { workdir: library });
    created = true;
  } else {
    ctx.log(`${name} exists already: not creating it again`);
  }
  const { started } = await startAndProbe(limactl, ctx, { name, library }, VM_STEPS.create.id);
  return { ...(await vmStatus(limactl, { name, library })), created, started };
}

export interface StartResult extends VmInfo {
  /** false when it was running already. */
  started: boolean;
  /** true when it was Broken and had to be stopped forcibly first. */
  recovered: boolean;
}

/**
 * Starts the VM (repairing a Broken one), then checks that the builder scripts can run in it:
 * tool_versions.sh through the builder, every disk tool present.
 */
export async function vmStart(
  limactl: Limactl,
  ctx: JobContext,
  options: VmOptions = {},
): Promise<StartResult> {
  ctx.plan?.(START_PLAN);
  ctx.step(VM_STEPS.boot.id, VM_STEPS.boot.label);
  return startAndProbe(limactl, ctx, options, VM_STEPS.boot.id);
}

async function startAndProbe(
  limactl: Limactl,
  ctx: JobContext,
  options: VmOptions,
  currentStep: string,
): Promise<StartResult> {
  const name = options.name ?? VM_NAME;
  const s = await limactl.status(name);
  let started = false;
  let recovered = false;
  if (s.state === 'missing') throw vmMissing(name);
  if (s.state === 'Broken') {
    await limactl.recover(name, ctx, currentStep);
    started = recovered = true;
  } else if (s.state !== 'Running') {
    await limactl.start(name, ctx, currentStep);
    started = true;
  } else {
    ctx.log(`${name} is running already`);
  }
  await probeTools(limactl, ctx, name, options.library);
  return { ...(await vmStatus(limactl, options)), started, recovered };
}

const TOOLS_PACKAGES =
  'partclone pigz isal dosfstools mtools fdisk parted e2fsprogs zerofree xz-utils zstd bmap-tools util-linux';

/** The last step: the builder runs tool_versions.sh in the VM; a missing tool fails with the fix. */
async function probeTools(limactl: Limactl, ctx: JobContext, name: string, library?: string): Promise<void> {
  ctx.step(VM_STEPS.probe.id, VM_STEPS.probe.label);
  const builder = await LimaBuilder.connect({
    limactl,
    instance: name,
    ...(library ? { workDir: library } : {}),
  });
  const tools = (await builder.runScript('tool_versions.sh', [], ctx)).results.get('tool') ?? [];
  ctx.log(`disk tools in the VM: ${tools.join(', ')}`);
  const missing = tools.filter((t) => t.endsWith(' missing')).map((t) => t.split(' ')[0]);
  if (tools.length === 0 || missing.length > 0) {
    throw new AtlasError(
      'missing-tool',
      tools.length === 0
        ? `the ${name} VM did not report its disk tools`
        : `the ${name} VM lacks ${missing.join(', ')}`,
      `install them: limactl shell ${name} sudo apt-get install -y ${TOOLS_PACKAGES}`,
    );
  }
}

export async function vmStop(
  limactl: Limactl,
  options: VmOptions & { force?: boolean } = {},
): Promise<VmInfo & { stopped: boolean }> {
  const name = options.name ?? VM_NAME;
  const before = await limactl.status(name);
  if (before.state === 'missing') throw vmMissing(name);
  const stopped = before.state !== 'Stopped' || options.force === true;
  await limactl.stop(name, { force: options.force === true });
  return { ...(await vmStatus(limactl, options)), stopped };
}

/** The command line of an interactive shell in the VM (for a terminal or node-pty). */
export function vmShellArgs(limactl: Limactl, info: VmInfo): { command: string; args: string[] } {
  const work = info.libraryInVm ?? info.sharedFolders.find((f) => f.writable)?.guest;
  return { command: limactl.path, args: limactl.interactiveShellArgs(info.name, work) };
}
