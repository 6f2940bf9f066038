/**
 * The VM doctor: is this machine ready to run the builder in the atlas-build VM? Each check
 * says what it found and, when it fails, what to do. Checks that depend on an earlier failure
 * (no limactl, VM not running) are reported as skipped, never as passed.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, statfs, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { JobContext } from '../jobs/job.js';
import { runTool } from '../tools/run-tool.js';
import { toAtlasError, type AtlasError, type NextStep } from '../errors.js';
import { Limactl } from './limactl.js';
import { LimaBuilder, VM_NAME } from './lima-builder.js';
import { checkSocketPathLength, HOMEBREW_LIMACTL, limaHome } from './locate.js';
import { toGuestPath } from './shared-folders.js';
import { templateDifferences } from './template-check.js';
import { cardPlatform } from '../cards/platform/index.js';
import { formatBytes } from '../../common/format-bytes.js';

export interface DoctorCheck {
  id: string;
  title: string;
  ok: boolean;
  detail: string;
  /** What to do when it fails, in plain words. */
  fix?: string;
  /** What to do when it fails, as steps the CLI and the app word (the app offers buttons). */
  next?: NextStep[];
  /** Not checked, because an earlier check failed (then ok is false). */
  skipped?: boolean;
}

/** What fixes a failed check: plain advice, steps, or both. */
type Fix = string | { fix?: string; next: NextStep[] };

export interface DoctorReport {
  ok: boolean;
  platform: NodeJS.Platform;
  checks: DoctorCheck[];
}

export interface DoctorOptions {
  library: string;
  /** undefined: look for limactl; null: Lima is not installed. */
  limactl?: Limactl | null;
  instance?: string;
  scriptsDir?: string;
  platform?: NodeJS.Platform;
  /** `sw_vers -productVersion` (macOS only). */
  macosVersion?: () => Promise<string>;
  /** Free bytes the work dir should have. */
  minFreeBytes?: number;
}

export const MIN_FREE_BYTES = 8e9;
const INSTALL_LIMA = 'install Lima: brew install lima (or set ATLAS_LIMACTL to its path)';

const pass = (id: string, title: string, detail: string): DoctorCheck => ({ id, title, ok: true, detail });
const fixOf = (fix: Fix): Pick<DoctorCheck, 'fix' | 'next'> =>
  typeof fix === 'string'
    ? { fix }
    : { ...(fix.fix === undefined ? {} : { fix: fix.fix }), ...(fix.next.length ? { next: fix.next } : {}) };
const fail = (id: string, title: string, detail: string, fix: Fix): DoctorCheck => ({
  id,
  title,
  ok: false,
  detail,
  ...fixOf(fix),
});
const skip = (id: string, title: string, why: string, fix: Fix): DoctorCheck => ({
  id,
  title,
  ok: false,
  skipped: true,
  detail: `not checked: ${why}`,
  ...fixOf(fix),
});
/** The fix a check reports for an error it caught: the error's own, else `otherwise`. */
const fixOfError = (err: AtlasError, otherwise: Fix): Fix =>
  err.hint === undefined && err.next.length === 0
    ? otherwise
    : { ...(err.hint === undefined ? {} : { fix: err.hint }), next: err.next };
/** A failed check's fix again, for the checks it keeps from running. */
const fixAgain = (c: DoctorCheck, otherwise: Fix): Fix =>
  c.fix === undefined && !c.next
    ? otherwise
    : { ...(c.fix === undefined ? {} : { fix: c.fix }), next: c.next ?? [] };

async function swVers(): Promise<string> {
  return (await runTool('sw_vers', ['-productVersion'])).stdout.trim();
}

async function checkMacos(o: DoctorOptions): Promise<DoctorCheck> {
  const title = 'macOS and Virtualization.framework';
  const platform = o.platform ?? process.platform;
  // Where the disk tools reach cards on this host itself, the VM (and so macOS's vz) is optional.
  if (cardPlatform(platform).diskTools === 'host') {
    return pass(
      'macos',
      title,
      `not macOS (${platform}): the local builder is used, the VM is optional here`,
    );
  }
  const v = await (o.macosVersion ?? swVers)().catch(() => '');
  const major = Number(v.split('.')[0]);
  if (!Number.isFinite(major) || major === 0) {
    return fail(
      'macos',
      title,
      'could not read the macOS version (sw_vers)',
      'check that /usr/bin/sw_vers works',
    );
  }
  return major >= 13
    ? pass('macos', title, `macOS ${v}: the vz VM type is available`)
    : fail(
        'macos',
        title,
        `macOS ${v} is too old for the vz VM type`,
        'update macOS to 13 (Ventura) or newer',
      );
}

async function checkLimactl(lima: Limactl | undefined, platform: NodeJS.Platform): Promise<DoctorCheck> {
  const title = 'Lima (limactl)';
  if (!lima) {
    const where = `looked in ATLAS_LIMACTL, PATH, ${HOMEBREW_LIMACTL.join(', ')}`;
    return fail(
      'limactl',
      title,
      `limactl not found (${where})`,
      cardPlatform(platform).diskTools === 'vm'
        ? INSTALL_LIMA
        : `${INSTALL_LIMA}; not needed on Linux, where the disk tools run on this host itself`,
    );
  }
  try {
    return pass('limactl', title, `limactl ${await lima.version()} at ${lima.path}`);
  } catch (e) {
    return fail('limactl', title, toAtlasError(e).message, 'reinstall Lima: brew reinstall lima');
  }
}

function checkLimaHome(instance: string): DoctorCheck {
  const title = 'LIMA_HOME path length';
  const home = limaHome();
  try {
    checkSocketPathLength(home, instance);
    return pass('lima-home', title, `${home}: socket paths fit`);
  } catch (e) {
    const err = toAtlasError(e);
    return fail('lima-home', title, err.message, fixOfError(err, 'set LIMA_HOME to a shorter folder'));
  }
}

async function checkVm(builder: LimaBuilder): Promise<DoctorCheck> {
  const title = `the ${builder.instance} VM`;
  const s = await builder.refresh();
  const log = s.lastLogError ? `; last error in ha.stderr.log: ${s.lastLogError}` : '';
  switch (s.state) {
    case 'Running':
      return pass('vm', title, `Running (${builder.describe()})${log}`);
    case 'missing':
      return fail('vm', title, `the ${builder.instance} VM does not exist`, { next: [{ do: 'vm-setup' }] });
    case 'Stopped':
      return fail('vm', title, `Stopped${log}`, { next: [{ do: 'vm-start' }] });
    case 'Broken':
      return fail('vm', title, `Broken: ${s.cause ?? '?'}`, {
        fix: 'starting it stops it forcibly first',
        next: [{ do: 'vm-start' }],
      });
    default:
      return fail('vm', title, `${s.state}${log}`, {
        fix: 'wait for the setup to finish',
        next: [{ do: 'vm-doctor' }],
      });
  }
}

/** A VM of our name made from another template (the user's own tools/atlas-build.yaml). */
async function checkTemplate(builder: LimaBuilder): Promise<DoctorCheck> {
  const title = "made from Atlas Imager's template";
  const s = await builder.refresh();
  if (!s.instance) return pass('vm-template', title, 'no VM to compare');
  const diff = templateDifferences(s.instance);
  if (diff.length === 0)
    return pass('vm-template', title, "image, mounts and readiness probe are the template's");
  return fail(
    'vm-template',
    title,
    `the ${builder.instance} VM was made from another template (tools/atlas-build.yaml?): ${diff
      .map((d) => `${d.what}: ${d.theirs} (ours: ${d.ours})`)
      .join('; ')}`,
    {
      fix: 'it is kept as it is until you choose: upgrade it in place, or recreate it (after you confirm)',
      next: [
        { do: 'vm-upgrade', instance: builder.instance },
        { do: 'vm-recreate', instance: builder.instance },
      ],
    },
  );
}

async function checkVmTools(builder: LimaBuilder, ctx: JobContext): Promise<DoctorCheck> {
  const title = 'disk tools in the VM';
  try {
    const out = await builder.runScript('tool_versions.sh', [], ctx);
    const tools = out.results.get('tool') ?? [];
    const missing = tools.filter((t) => t.endsWith(' missing')).map((t) => t.split(' ')[0]);
    if (tools.length === 0)
      return fail('vm-tools', title, 'tool_versions.sh reported no tools', { next: [{ do: 'vm-setup' }] });
    return missing.length === 0
      ? pass('vm-tools', title, tools.join(', '))
      : fail('vm-tools', title, `missing: ${missing.join(', ')}`, {
          fix: `limactl shell ${builder.instance} sudo apt-get install -y partclone pigz isal dosfstools mtools fdisk e2fsprogs xz-utils zstd`,
          next: [{ do: 'vm-upgrade', instance: builder.instance }],
        });
  } catch (e) {
    const err = toAtlasError(e);
    return fail('vm-tools', title, err.message, fixOfError(err, { next: [{ do: 'vm-start' }] }));
  }
}

/** Writes a file on each side of the work folder and reads it on the other. */
async function checkSharedFolder(builder: LimaBuilder, library: string): Promise<DoctorCheck> {
  const title = 'shared work folder';
  let probeDir: string | undefined;
  try {
    const work = builder.workFolder();
    const libraryWritable = toGuestPath(builder.sharedFolders, library)?.folder.writable === true;
    probeDir = join(work.host, '.atlas-doctor', randomUUID());
    await mkdir(probeDir, { recursive: true });
    const hostToken = randomUUID();
    await writeFile(join(probeDir, 'from-host'), hostToken);
    const read = await builder.guestCommand(['cat', builder.toBuilderPath(join(probeDir, 'from-host'))]);
    if (read.exitCode !== 0 || read.stdout.trim() !== hostToken) {
      return fail(
        'shared-folder',
        title,
        `the VM cannot read ${work.guest} (${read.stderr.trim() || `exit ${read.exitCode}`})`,
        { next: [{ do: 'vm-restart' }] },
      );
    }
    const guestToken = randomUUID();
    const written = await builder.guestCommand(
      ['sudo', 'install', '-m', '0644', '/dev/stdin', builder.toBuilderPath(join(probeDir, 'from-vm'))],
      { input: guestToken },
    );
    const back = await readFile(join(probeDir, 'from-vm'), 'utf8').catch(() => '');
    if (written.exitCode !== 0 || back !== guestToken) {
      return fail(
        'shared-folder',
        title,
        `the VM cannot write to ${work.guest} (${written.stderr.trim() || 'nothing arrived on this side'})`,
        {
          fix: 'the work folder must be writable: true',
          next: [{ do: 'vm-recreate', instance: builder.instance }],
        },
      );
    }
    const detail = `${work.host} is ${work.guest} in the VM, readable and writable from both sides`;
    return libraryWritable
      ? pass('shared-folder', title, detail)
      : fail(
          'shared-folder',
          title,
          `${detail}, but the library ${resolve(library)} is not in a folder the VM may write to`,
          {
            next: [
              { do: 'choose-library', inside: work.host },
              { do: 'vm-recreate', instance: builder.instance, library: resolve(library) },
            ],
          },
        );
  } catch (e) {
    const err = toAtlasError(e);
    return fail('shared-folder', title, err.message, fixOfError(err, { next: [{ do: 'vm-setup' }] }));
  } finally {
    if (probeDir) await rm(dirname(probeDir), { recursive: true, force: true }).catch(() => undefined);
  }
}

async function nearestExisting(path: string): Promise<string> {
  let p = resolve(path);
  for (;;) {
    try {
      await statfs(p);
      return p;
    } catch {
      const up = dirname(p);
      if (up === p) return p;
      p = up;
    }
  }
}

async function checkDiskSpace(library: string, minFree: number): Promise<DoctorCheck> {
  const title = 'free space in the library';
  const dir = await nearestExisting(library);
  const s = await statfs(dir);
  const free = s.bavail * s.bsize;
  const detail = `${formatBytes(free, { unit: 'GB' })} free in ${dir}`;
  return free >= minFree
    ? pass('disk-space', title, detail)
    : fail(
        'disk-space',
        title,
        `${detail} (${formatBytes(minFree, { unit: 'GB', digits: 0 })} recommended: a clone needs room for a card's used data)`,
        { fix: 'free some space', next: [{ do: 'choose-library' }] },
      );
}

async function checkRawDisk(platform: NodeJS.Platform): Promise<DoctorCheck> {
  const title = 'access to SD cards';
  const access = await cardPlatform(platform).rawAccess();
  return access.ok
    ? pass('raw-disk', title, access.detail)
    : fail('raw-disk', title, access.detail, { next: access.next ?? [] });
}

export async function runDoctor(o: DoctorOptions, ctx: JobContext): Promise<DoctorReport> {
  const platform = o.platform ?? process.platform;
  const instance = o.instance ?? VM_NAME;
  const lima = o.limactl === null ? undefined : (o.limactl ?? Limactl.find());
  const checks: DoctorCheck[] = [];
  ctx.step('doctor', 'Checking Lima and the atlas-build VM');
  checks.push(await checkMacos(o));
  const limactlCheck = await checkLimactl(lima, platform);
  checks.push(limactlCheck);
  checks.push(checkLimaHome(instance));

  const vmChecks = [
    ['vm', `the ${instance} VM`],
    ['vm-tools', 'disk tools in the VM'],
    ['shared-folder', 'shared work folder'],
  ] as const;
  if (!lima || !limactlCheck.ok) {
    for (const [id, title] of vmChecks)
      checks.push(skip(id, title, 'limactl is not available', fixAgain(limactlCheck, INSTALL_LIMA)));
  } else {
    const builder = await LimaBuilder.connect({
      limactl: lima,
      instance,
      ...(o.scriptsDir ? { scriptsDir: o.scriptsDir } : {}),
    });
    const vm = await checkVm(builder);
    checks.push(vm);
    if (builder.status.state !== 'missing') checks.push(await checkTemplate(builder));
    if (!vm.ok) {
      for (const [id, title] of vmChecks.slice(1))
        checks.push(
          skip(id, title, `the ${instance} VM is not running`, fixAgain(vm, { next: [{ do: 'vm-start' }] })),
        );
    } else {
      checks.push(await checkVmTools(builder, ctx));
      checks.push(await checkSharedFolder(builder, o.library));
    }
  }
  checks.push(await checkDiskSpace(o.library, o.minFreeBytes ?? MIN_FREE_BYTES));
  checks.push(await checkRawDisk(platform));
  return { ok: checks.every((c) => c.ok), platform, checks };
}
