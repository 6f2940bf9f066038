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
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AtlasError, CancelledError } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import { PACKAGE_ROOT } from '../paths.js';
import type {
  Expect,
  HelperDone,
  HelperEvent,
  HelperRequest,
  Phase,
} from '../../common/raw-disk-protocol.js';
import type { CardIdentity } from './card.js';
import type { DiskutilOptions } from './diskutil.js';
import { cardPlatform } from './platform/index.js';
import { directLauncher, type HelperLauncher } from './helper-launchers.js';
import { sessionFor, type SessionAnswer } from './helper-session.js';
import { unmountDisk } from './target-guards.js';
export { closeHelperSessions, namedPipes, type Pipes } from './helper-session.js';
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
  const session = await sessionFor(launcher, [process.execPath, HELPER_PATH]);
  let phase: Phase = first;
  const { id, answer } = session.request(request, (ev) => {
    if (ev.event === 'progress') {
      if (ev.phase !== phase) {
        phase = ev.phase;
        ctx.step(phase, labels[phase], ev.total);
      }
      ctx.progress(ev.done, ev.total);
    } else if (ev.event === 'serving') {
      onEvent?.(ev);
    }
  });
  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    session.cancel(id);
    // A helper that does not answer the cancel is ended, with whatever else it was doing.
    killTimer = setTimeout(() => {
      session.kill('SIGTERM');
      killTimer = setTimeout(() => session.kill('SIGKILL'), 2000);
    }, opts.killGraceMs ?? 10_000);
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  let end: SessionAnswer;
  try {
    end = await answer;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    if (killTimer) clearTimeout(killTimer);
    if (!launcher.shared) await session.close();
  }
  if (end.kind === 'answer' && end.event.event === 'done') {
    const done = end.event;
    return {
      bytes: done.bytes,
      sha256: done.sha256,
      verified: done.verified,
      ...(done.mappedBytes !== undefined ? { mappedBytes: done.mappedBytes } : {}),
      ...(done.fallbacks ? { fallbacks: done.fallbacks } : {}),
      ...(done.partclone ? { partclone: done.partclone } : {}),
      ...(done.readBytes !== undefined ? { readBytes: done.readBytes } : {}),
      ...(done.writtenBytes !== undefined ? { writtenBytes: done.writtenBytes } : {}),
    };
  }
  if (ctx.signal.aborted) throw new CancelledError(`the ${request.op} of ${device}`);
  if (end.kind === 'answer' && end.event.event === 'error') throw AtlasError.from(end.event);
  throw helperEnded(end as Extract<SessionAnswer, { kind: 'ended' }>, launcher, device);
}

/** The error for a helper that ended without answering: not started, refused, or gone. */
function helperEnded(
  end: Extract<SessionAnswer, { kind: 'ended' }>,
  launcher: HelperLauncher,
  device: string,
): AtlasError {
  if (end.spawnError === 'ENOENT') {
    return new AtlasError('missing-tool', `${launcher.wrap([]).command} is not installed`, undefined, {
      next: [{ do: 'run-as-root' }],
    });
  }
  // AppleScript's error -128: the user clicked Cancel in the administrator prompt.
  if (launcher.name === 'osascript' && end.stderr.some((l) => l.includes('(-128)'))) {
    return new AtlasError(
      'permission',
      `the administrator prompt was cancelled: ${device} was not read or written`,
      "start it again and enter an administrator's password (or use Touch ID) when macOS asks",
    );
  }
  const tail = end.stderr.slice(-5).join('\n');
  const direct = launcher.name === 'direct';
  return new AtlasError(
    direct ? 'tool-failed' : 'permission',
    `the raw-disk helper (${launcher.name}) ended without an answer (exit ${end.exitCode ?? end.signal})${tail ? `: ${tail}` : ''}`,
    direct ? undefined : 'the authorization was refused or cancelled: try again',
    direct ? undefined : { next: [{ do: 'run-as-root' }] },
  );
}

export async function unmountFirst(card: RawCard, opts: RawDiskOptions): Promise<void> {
  if (opts.unmount === false) return;
  await unmountDisk(card.path, { ...opts.diskutil, ...(opts.platform ? { platform: opts.platform } : {}) });
}
