/**
 * One job per output and per card, across processes (two CLIs, or the CLI and the app): a job
 * takes a lock file for the output it writes and for the card it reads or writes before it
 * touches anything, and a second job on the same output or card is refused at once, told which
 * job holds it.
 *
 *   output   <output's folder>/.locks/<output name>.lock   (the library's .locks for its artifacts)
 *   card     <runtime dir>/card-<device number or file id>.lock, keyed by what the path opens,
 *            so /dev/sdc and a /dev/disk/by-id link to it are one card; the runtime dir is
 *            /run/atlas-imager for root on Linux, else a per-user folder in the temp dir.
 *
 * A lock file is created whole (written aside, then hard-linked into place: link never
 * replaces), holds the holder's pid, job, command line and start time, and is removed when the
 * job ends (success, failure, cancel) or the process exits. A lock whose process is gone (kill -9,
 * power loss) is stale and taken over; on Linux the process start time tells a reused pid apart.
 *
 * The lock also lists the process groups the holder has running (every tool runs in a group of
 * its own, tied to the holder: see tools/run-tool.ts), rewritten as they start and end. A holder
 * killed with -9 leaves its tools to be stopped by their ties: until every process of those
 * groups is gone (a script still cleaning up, a partclone still writing the card) the lock is not
 * taken over; the next job waits for them a while, then is refused naming them.
 */
import { randomUUID } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { link, lstat, mkdir, readFile, rename, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { AtlasError } from '../errors.js';
import { shownExcerpt } from '../../common/shown-text.js';
import { readRegularFile } from './regular-file.js';
import { childGroups, groupMembers, onChildGroups } from '../tools/child-groups.js';

export const LOCKS_DIR = '.locks';

export interface LockHolder {
  pid: number;
  /** What the job does, e.g. "clone golden-clone-keep". */
  job: string;
  /** The holder's command line (ods-sd clone /dev/sdc keep, or the app). */
  command: string;
  /** ISO time the lock was taken. */
  since: string;
  host: string;
  /** Linux: the holder's start time in clock ticks since boot (tells a reused pid apart). */
  procStart?: string;
  token: string;
  /** The process groups of the tools the holder has running. */
  groups?: number[];
}

export interface JobLock {
  readonly path: string;
  release(): Promise<void>;
}

/** What a lock protects: shown in the refusal ("golden-clone-keep", "the card /dev/sdc"). */
interface LockRequest {
  path: string;
  what: string;
}

const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);
const held = new Map<string, string>();
/** Each held lock's holder record and its queue of rewrites (one at a time, then the release). */
const records = new Map<string, { holder: LockHolder; queue: Promise<void> }>();
let exitHookInstalled = false;
/** How long a job waits for a dead holder's tools to be stopped before it is refused. */
const LEFTOVER_WAIT_MS = 30_000;
let ownerCommand: string | undefined;

/** The command line recorded in this process's locks (the app sets its own name). */
export function setLockOwnerCommand(command: string): void {
  ownerCommand = command;
}

function commandLine(): string {
  if (ownerCommand) return ownerCommand;
  if (process.versions.electron) return 'the Atlas Imager app';
  const [exe, script, ...rest] = process.argv;
  const name = basename(script ?? exe ?? 'atlas-imager').replace(/\.[cm]?js$/, '');
  return [name, ...rest].join(' ').slice(0, 300);
}

async function procStart(pid: number): Promise<string | undefined> {
  if (process.platform !== 'linux') return undefined;
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  // Field 22 (starttime); fields after the command name, which may contain spaces, in parentheses.
  return text?.slice(text.lastIndexOf(')') + 2).split(' ')[19];
}

/** The runtime folder for card locks: shared by every job of this user (all jobs, for root). */
export function cardLockDir(): string {
  if (process.platform === 'linux' && process.getuid?.() === 0) return '/run/atlas-imager';
  return join(tmpdir(), `atlas-imager-${process.getuid?.() ?? 'user'}`);
}

/** The card-lock folder is this user's own (in a shared temp folder anyone could have made it). */
async function privateRuntimeDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o022) !== 0) {
    throw new AtlasError(
      'permission',
      `the lock folder ${dir} is not this user's own private folder`,
      `remove ${dir} (someone else made it) and run again`,
    );
  }
}

/** Is the process that wrote `h` still running? */
async function holderAlive(h: LockHolder): Promise<boolean> {
  if (h.host !== hostname()) return true; // another machine's job (shared folder): cannot tell
  if (!Number.isSafeInteger(h.pid) || h.pid <= 0) return false;
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (h.procStart === undefined) return true;
  const now = await procStart(h.pid);
  return now === undefined || now === h.procStart;
}

/** The processes left running from the tools of a holder that is gone. */
function leftovers(h: LockHolder): number[] {
  const groups = Array.isArray(h.groups) ? h.groups.filter((g) => Number.isSafeInteger(g) && g > 1) : [];
  return groups.flatMap((g) => groupMembers(g));
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    // Only a regular file is read (a pipe put in its place would block forever), at most 64 KiB.
    const h = JSON.parse((await readRegularFile(path, 64 * 1024)).toString('utf8')) as LockHolder;
    return typeof h.pid === 'number' && typeof h.token === 'string' ? h : undefined;
  } catch {
    return undefined;
  }
}

function since(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

function busy(req: LockRequest, h: LockHolder): AtlasError {
  // The holder's words come from a file in the library: shown escaped, cut short.
  const shown = (v: unknown) => shownExcerpt(String(v), 200);
  const where = h.host === hostname() ? `pid ${h.pid}` : `pid ${h.pid} on ${shown(h.host)}`;
  return new AtlasError(
    'busy',
    `${req.what} is in use by another job: ${shown(h.job)} (${where}, ${shown(h.command)}, since ${shown(since(h.since))})`,
    `wait for that job to finish or cancel it, then run again; if no such job runs, remove ${req.path}`,
  );
}

function leftoverBusy(req: LockRequest, h: LockHolder, pids: number[]): AtlasError {
  const shown = pids.slice(0, 8).join(', ') + (pids.length > 8 ? ', …' : '');
  return new AtlasError(
    'busy',
    `${req.what} is still in use by what ${h.job} started (its process ${h.pid} ended; still running: pid ${shown})`,
    `wait for them to end (they are being stopped), or stop them yourself (kill ${pids.join(' ')}), then run again`,
  );
}

/** Writes a held lock anew with the holder's current process groups (queued behind the last). */
function recordGroups(groups: readonly number[]): void {
  for (const [path, r] of records) {
    const holder: LockHolder = { ...r.holder, groups: [...groups] };
    r.holder = holder;
    r.queue = r.queue.then(() => rewrite(path, holder)).catch(() => undefined);
  }
}

async function rewrite(path: string, holder: LockHolder): Promise<void> {
  if (held.get(path) !== holder.token) return;
  const now = await readHolder(path);
  if (now?.token !== holder.token) return;
  const tmp = join(dirname(path), `.${basename(path)}.${holder.token}.upd`);
  await writeFile(tmp, `${JSON.stringify(holder, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path).catch(async (e: unknown) => {
    await unlink(tmp).catch(() => undefined);
    throw e;
  });
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  onChildGroups(recordGroups);
  // A process that ends without finishing its jobs (an uncaught error, process.exit) leaves no lock.
  process.on('exit', () => {
    for (const path of held.keys()) {
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    }
  });
}

/** Moves a stale lock aside, and back if it turns out to be a live one someone just took. */
async function takeOver(path: string, stale: LockHolder): Promise<void> {
  const aside = `${path}.${randomUUID()}.stale`;
  try {
    await rename(path, aside);
  } catch {
    return; // someone else took it over first
  }
  const moved = await readHolder(aside);
  if (moved && moved.token !== stale.token) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

async function acquire(req: LockRequest, job: string): Promise<JobLock> {
  const holder: LockHolder = {
    pid: process.pid,
    job,
    command: commandLine(),
    since: new Date().toISOString(),
    host: hostname(),
    token: randomUUID(),
    groups: childGroups(),
  };
  const start = await procStart(process.pid);
  if (start !== undefined) holder.procStart = start;
  const dir = dirname(req.path);
  const text = `${JSON.stringify(holder, null, 2)}\n`;
  let waited: number | undefined;
  for (let attempt = 0; attempt < 20; attempt++) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = join(dir, `.${basename(req.path)}.${holder.token}.tmp`);
    try {
      await writeFile(tmp, text, { mode: 0o600, flag: 'wx' });
      await link(tmp, req.path).catch(async (e: NodeJS.ErrnoException) => {
        // A file system without hard links (FAT, some shares): exclusive create, then write.
        if (!NO_LINKS.has(e.code ?? '')) throw e;
        await writeFile(req.path, text, { mode: 0o600, flag: 'wx' });
      });
      held.set(req.path, holder.token);
      records.set(req.path, { holder, queue: Promise.resolve() });
      installExitHook();
      // Tools started while the lock was being taken: recorded now.
      if ((holder.groups ?? []).join() !== childGroups().join()) recordGroups(childGroups());
      return { path: req.path, release: () => release(req.path, holder.token) };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue; // the folder was removed by a job that just ended
      if (code !== 'EEXIST') throw e;
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
    const other = await readHolder(req.path);
    if (other && (await holderAlive(other))) throw busy(req, other);
    const left = other ? leftovers(other) : [];
    if (other && left.length > 0) {
      waited ??= Date.now();
      if (Date.now() - waited >= LEFTOVER_WAIT_MS) throw leftoverBusy(req, other, left);
      await new Promise((r) => setTimeout(r, 200));
      attempt--; // waiting for a dead holder's tools does not use up the attempts
      continue;
    }
    if (!other) {
      // Unreadable: being written by a process without hard links, or damaged. Old means damaged.
      const st = await stat(req.path).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs < 5000) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      await unlink(req.path).catch(() => undefined);
      continue;
    }
    await takeOver(req.path, other);
  }
  throw new AtlasError(
    'busy',
    `${req.what} is in use by another job`,
    `if no such job runs, remove ${req.path}`,
  );
}

async function release(path: string, token: string): Promise<void> {
  if (held.get(path) !== token) return;
  const r = records.get(path);
  records.delete(path);
  await r?.queue;
  held.delete(path);
  const h = await readHolder(path);
  if (h?.token === token) await unlink(path).catch(() => undefined);
  await rmdir(dirname(path)).catch(() => undefined); // only when empty
}

/** The lock of an output file or folder (its final name), in `.locks` beside it. */
export function lockOutput(finalPath: string, job: string): Promise<JobLock> {
  const p = resolve(finalPath);
  return acquire({ path: join(dirname(p), LOCKS_DIR, `${basename(p)}.lock`), what: basename(p) }, job);
}

/** The card's lock key: its device number, or the file it is (an image file standing in). */
async function cardKey(cardPath: string): Promise<string | undefined> {
  const st = await stat(cardPath).catch(() => undefined);
  if (!st) return undefined;
  if (process.platform === 'darwin' && (st.isBlockDevice() || st.isCharacterDevice())) {
    // /dev/disk4 and /dev/rdisk4 are one card.
    return `disk-${basename(cardPath).replace(/^r(?=disk)/, '')}`;
  }
  if (st.isBlockDevice() || st.isCharacterDevice()) return `dev-${st.rdev}`;
  return `file-${st.dev}-${st.ino}`;
}

/**
 * The lock of a card (a device, or an image file standing in for one). A path that does not
 * exist is not locked: the job then fails on it with its own message.
 */
export async function lockCard(cardPath: string, job: string): Promise<JobLock> {
  const key = await cardKey(cardPath);
  if (!key) return { path: '', release: async () => undefined };
  await privateRuntimeDir(cardLockDir());
  return acquire({ path: join(cardLockDir(), `card-${key}.lock`), what: `the card ${cardPath}` }, job);
}

/**
 * Runs `work` holding every lock (taken in order; none is kept when one is refused) and releases
 * them when it ends, however it ends.
 */
export async function withJobLocks<T>(
  locks: Array<() => Promise<JobLock>>,
  work: () => Promise<T>,
): Promise<T> {
  const taken: JobLock[] = [];
  try {
    for (const take of locks) taken.push(await take());
    return await work();
  } finally {
    for (const l of taken.reverse()) await l.release();
  }
}
