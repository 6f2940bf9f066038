/**
 * The client side of the raw-disk helper (src-main/privileged/raw-disk-helper.ts): how it is
 * started with the rights to open card devices (HelperLauncher), and one request sent to it with
 * its progress, cancellation and answer.
 *
 * How the helper is started (as root, through sudo or pkexec, or macOS's authorization dialog) is
 * helper-launchers.ts; which launcher a platform uses, the card platform's (platform/).
 * Progress lands in the JobContext; cancelling sends {"op":"cancel"}, then kills after a grace
 * period; the helper also stops when its input closes.
 */
import { closeSync, constants, existsSync, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { AtlasError, CancelledError } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import { PACKAGE_ROOT } from '../paths.js';
import { runToolChecked } from '../tools/run-tool.js';
import type {
  Expect,
  HelperDone,
  HelperEvent,
  HelperRequest,
  Phase,
} from '../../common/raw-disk-protocol.js';
import type { CardIdentity } from './card.js';
import { unmountDisk, type DiskutilOptions } from './diskutil.js';
import { cardPlatform } from './platform/index.js';
import { directLauncher, type HelperLauncher } from './helper-launchers.js';
export {
  directLauncher,
  osascriptLauncher,
  pkexecLauncher,
  sudoLauncher,
  type HelperLauncher,
} from './helper-launchers.js';

/** A card as the helper will check it: CardIdentity plus the identity of the medium in the reader. */
export interface RawCard extends CardIdentity {
  medium?: string;
}

/** What a request to the helper did. */
export type RawResult = HelperDone;

export interface RawDiskOptions {
  launcher?: HelperLauncher;
  /** Milliseconds between asking the helper to cancel and killing it (default 10 s). */
  killGraceMs?: number;
  /** Unmount the card's volumes before touching it (default true). */
  unmount?: boolean;
  platform?: NodeJS.Platform;
  diskutil?: DiskutilOptions;
}

export function expectOf(card: RawCard): Expect {
  return {
    bytes: card.bytes,
    ...(card.serial ? { serial: card.serial } : {}),
    ...(card.model ? { model: card.model } : {}),
    ...(card.medium ? { medium: card.medium } : {}),
    ...(card.table ? { table: card.table } : {}),
  };
}

// --- launching the helper ----------------------------------------------------------------------------

/**
 * The helper as one bundled file (npm run build:helper): the packaged app starts it from
 * app.asar.unpacked, out of reach of the modules packed in the asar archive.
 */
export const HELPER_PATH = join(PACKAGE_ROOT, 'dist', 'privileged', 'raw-disk-helper.mjs');

/** The launcher for this platform and user: directly as root, else the platform's way to root. */
export async function defaultLauncher(platform: NodeJS.Platform, device: string): Promise<HelperLauncher> {
  if (process.geteuid?.() === 0) return directLauncher;
  return cardPlatform(platform).launcher(device);
}

// --- talking to the helper ------------------------------------------------------------------------

export interface Pipes {
  args: string[];
  input: Socket;
  output: Socket;
  /** Lets the output end once the helper is gone (it was held open until then). */
  release(): void;
  cleanup(): Promise<void>;
}

/**
 * Two named pipes in a private directory, our ends opened before the helper starts and without
 * blocking: the input read-write (so it never waits for a reader, and the helper sees end-of-file
 * only when we close it or die), the output read-only plus a writer we hold until the launcher
 * has exited (so end-of-file means the helper is done, even if it never started). Both are
 * event-loop pipe handles: a thread blocked on a named pipe would hang the process on exit.
 */
export async function namedPipes(): Promise<Pipes> {
  const dir = await mkdtemp(join(tmpdir(), 'atlas-raw-disk-'));
  const inPath = join(dir, 'in');
  const outPath = join(dir, 'out');
  await runToolChecked('mkfifo', ['-m', '600', inPath, outPath]);
  const inFd = openSync(inPath, constants.O_RDWR | constants.O_NONBLOCK);
  const outFd = openSync(outPath, constants.O_RDONLY | constants.O_NONBLOCK);
  let hold: number | undefined = openSync(outPath, constants.O_WRONLY | constants.O_NONBLOCK);
  const input = new Socket({ fd: inFd, readable: false, writable: true });
  const output = new Socket({ fd: outFd, readable: true, writable: false });
  const release = () => {
    if (hold !== undefined) closeSync(hold);
    hold = undefined;
  };
  return {
    args: ['--in', inPath, '--out', outPath],
    input,
    output,
    release,
    async cleanup() {
      release();
      input.destroy();
      output.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function runHelper(
  request: HelperRequest,
  ctx: JobContext,
  first: Phase,
  labels: Record<Phase, string>,
  opts: RawDiskOptions,
  device: string,
  onEvent?: (ev: HelperEvent) => void,
): Promise<RawResult> {
  if (!existsSync(HELPER_PATH)) {
    throw new AtlasError(
      'missing-tool',
      `the raw-disk helper is not built (${HELPER_PATH})`,
      'run npm run build',
    );
  }
  const launcher = opts.launcher ?? (await defaultLauncher(opts.platform ?? process.platform, device));
  ctx.throwIfCancelled(); // an abort listener added after the abort would never run
  const fifo = launcher.transport === 'fifo' ? await namedPipes() : undefined;
  const { command, args, env } = launcher.wrap([process.execPath, HELPER_PATH, ...(fifo?.args ?? [])]);
  const child = execa(command, args, {
    env,
    extendEnv: false,
    reject: false,
    detached: true,
    buffer: false,
    stdin: fifo ? 'ignore' : 'pipe',
    stdout: fifo ? 'ignore' : 'pipe',
    stderr: 'pipe',
  });
  // Listeners go on in this tick: output produced before they exist would be lost.
  const input = fifo?.input ?? child.stdin!;
  const output = fifo?.output ?? child.stdout!;
  input.on('error', () => undefined);
  const stderr: string[] = [];
  child.stderr?.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n')) if (line.trim()) stderr.push(line);
    if (stderr.length > 50) stderr.splice(0, stderr.length - 50);
  });
  let done: HelperEvent | undefined;
  let failure: AtlasError | undefined;
  let phase: Phase = first;
  const lines = createInterface({ input: output, crlfDelay: Infinity });
  const linesClosed = new Promise<void>((r) => lines.once('close', r));
  lines.on('line', (line) => {
    let ev: HelperEvent;
    try {
      ev = JSON.parse(line) as HelperEvent;
    } catch {
      ctx.log(`raw-disk helper: ${line}`);
      return;
    }
    if (ev.event === 'progress') {
      if (ev.phase !== phase) {
        phase = ev.phase;
        ctx.step(phase, labels[phase], ev.total);
      }
      ctx.progress(ev.done, ev.total);
    } else if (ev.event === 'serving') {
      onEvent?.(ev);
    } else if (ev.event === 'done') {
      done = ev;
    } else if (ev.event === 'error') {
      failure = AtlasError.from(ev);
    }
  });

  let killTimer: NodeJS.Timeout | undefined;
  const kill = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      /* already gone */
    }
  };
  const onAbort = () => {
    input.write(`${JSON.stringify({ op: 'cancel' })}\n`);
    killTimer = setTimeout(() => {
      input.destroy(); // the helper also stops when its input closes
      kill('SIGTERM');
      killTimer = setTimeout(() => kill('SIGKILL'), 2000);
    }, opts.killGraceMs ?? 10_000);
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    input.write(`${JSON.stringify(request)}\n`);
    const exit = await child;
    fifo?.release();
    await linesClosed;
    if (done?.event === 'done') {
      return {
        bytes: done.bytes,
        sha256: done.sha256,
        verified: done.verified,
        ...(done.mappedBytes !== undefined ? { mappedBytes: done.mappedBytes } : {}),
        ...(done.fallbacks ? { fallbacks: done.fallbacks } : {}),
        ...(done.readBytes !== undefined ? { readBytes: done.readBytes } : {}),
        ...(done.writtenBytes !== undefined ? { writtenBytes: done.writtenBytes } : {}),
      };
    }
    if (ctx.signal.aborted) throw new CancelledError(`the ${request.op} of ${device}`);
    if (failure) throw failure;
    if ((exit as { code?: string }).code === 'ENOENT') {
      throw new AtlasError('missing-tool', `${command} is not installed`, undefined, {
        next: [{ do: 'run-as-root' }],
      });
    }
    // AppleScript's error -128: the user clicked Cancel in the administrator prompt.
    if (launcher.name === 'osascript' && stderr.some((l) => l.includes('(-128)'))) {
      throw new AtlasError(
        'permission',
        `the administrator prompt was cancelled: ${device} was not read or written`,
        "start it again and enter an administrator's password (or use Touch ID) when macOS asks",
      );
    }
    const tail = stderr.slice(-5).join('\n');
    throw new AtlasError(
      launcher.name === 'direct' ? 'tool-failed' : 'permission',
      `the raw-disk helper (${launcher.name}) ended without an answer (exit ${exit.exitCode ?? exit.signal})${tail ? `: ${tail}` : ''}`,
      launcher.name === 'direct' ? undefined : 'the authorization was refused or cancelled: try again',
      launcher.name === 'direct' ? undefined : { next: [{ do: 'run-as-root' }] },
    );
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    if (killTimer) clearTimeout(killTimer);
    if (fifo) input.destroy();
    else input.end();
    lines.close();
    await fifo?.cleanup();
  }
}

export async function unmountFirst(card: RawCard, opts: RawDiskOptions): Promise<void> {
  if (opts.unmount === false) return;
  await unmountDisk(card.path, { ...opts.diskutil, ...(opts.platform ? { platform: opts.platform } : {}) });
}
