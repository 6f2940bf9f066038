/**
 * One running raw-disk helper (`--session`) and the requests sent to it: each request gets an id,
 * its events are routed back to it, and it can be cancelled alone.
 *
 * A launcher that asks the user for rights (macOS's administrator dialog, polkit) is `shared`: its
 * session is started once and serves every request of this process (an app session, a CLI run), so
 * flashing three cards and then cloning one asks once. The session does not keep the process
 * alive while no request runs; when the process ends, the helper's input closes and it exits.
 * Other launchers (already root, `sudo -n`) start a session per request and close it after.
 */
import { closeSync, constants, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { execa, type ResultPromise } from 'execa';
import { runToolChecked } from '../tools/run-tool.js';
import type { HelperEvent, HelperReady, HelperRequest } from '../../common/raw-disk-protocol.js';
import type { HelperLauncher } from './helper-launchers.js';

/** How a request ended: its answer, or the helper gone without one. */
export type SessionAnswer =
  | { kind: 'answer'; event: Extract<HelperEvent, { event: 'done' | 'error' }> }
  | { kind: 'ended'; exitCode?: number; signal?: string; spawnError?: string; stderr: string[] };

interface Pending {
  onEvent(ev: HelperEvent): void;
  settle(a: SessionAnswer): void;
}

export interface Pipes {
  args: string[];
  input: Socket;
  output: Socket;
  /** Lets the output end once the helper is gone (it was held open until then). */
  release(): void;
  /** Removes the pipes' names; the open ends stay. */
  unlink(): Promise<void>;
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
  const unlink = () => rm(dir, { recursive: true, force: true });
  return {
    args: ['--in', inPath, '--out', outPath],
    input,
    output,
    release,
    unlink,
    async cleanup() {
      release();
      input.destroy();
      output.destroy();
      await unlink();
    },
  };
}

export class HelperSession {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly stderr: string[] = [];
  private ended = false;
  /** Resolves once the helper has exited and its output is read to the end. */
  readonly closed: Promise<void>;

  private constructor(
    readonly launcher: HelperLauncher,
    private readonly child: ResultPromise,
    private readonly input: Writable & { ref?(): void; unref?(): void },
    private readonly output: Readable & { ref?(): void; unref?(): void },
    private readonly fifo: Pipes | undefined,
  ) {
    input.on('error', () => undefined);
    child.stderr?.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line.trim()) this.stderr.push(line);
      if (this.stderr.length > 50) this.stderr.splice(0, this.stderr.length - 50);
    });
    const lines = createInterface({ input: output, crlfDelay: Infinity });
    const linesClosed = new Promise<void>((r) => lines.once('close', r));
    lines.on('line', (line) => this.onLine(line));
    this.closed = (async () => {
      const exit = (await child) as { exitCode?: number; signal?: string; code?: string };
      fifo?.release();
      await linesClosed;
      this.ended = true;
      await fifo?.cleanup();
      const end: SessionAnswer = {
        kind: 'ended',
        ...(exit.exitCode !== undefined ? { exitCode: exit.exitCode } : {}),
        ...(exit.signal ? { signal: exit.signal } : {}),
        ...(exit.code === 'ENOENT' ? { spawnError: 'ENOENT' } : {}),
        stderr: [...this.stderr],
      };
      for (const p of this.pending.values()) p.settle(end);
      this.pending.clear();
    })();
    this.idle();
  }

  /** Starts the helper (`argv`: this Node and the helper script) through `launcher`. */
  static async start(launcher: HelperLauncher, argv: string[]): Promise<HelperSession> {
    const fifo = launcher.transport === 'fifo' ? await namedPipes() : undefined;
    const { command, args, env } = launcher.wrap([...argv, '--session', ...(fifo?.args ?? [])]);
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
    return new HelperSession(
      launcher,
      child,
      fifo?.input ?? child.stdin!,
      fifo?.output ?? child.stdout!,
      fifo,
    );
  }

  /** False once the helper has exited: a new request needs a new session. */
  get alive(): boolean {
    return !this.ended;
  }

  /** Sends `request`; `onEvent` sees its progress and other events; resolves with how it ended. */
  request(
    request: HelperRequest,
    onEvent: (ev: HelperEvent) => void,
  ): { id: number; answer: Promise<SessionAnswer> } {
    const id = this.nextId++;
    const answer = new Promise<SessionAnswer>((settle) => {
      if (this.ended) {
        settle({ kind: 'ended', stderr: [...this.stderr] });
        return;
      }
      this.pending.set(id, {
        onEvent,
        settle: (a) => {
          this.pending.delete(id);
          if (this.pending.size === 0) this.idle();
          settle(a);
        },
      });
    });
    if (!this.ended) {
      this.busy();
      this.input.write(`${JSON.stringify({ ...request, id })}\n`);
    }
    return { id, answer };
  }

  cancel(id: number): void {
    if (!this.ended) this.input.write(`${JSON.stringify({ op: 'cancel', id })}\n`);
  }

  /** Ends the helper by a signal to its process group (every request it serves ends with it). */
  kill(signal: NodeJS.Signals): void {
    try {
      if (this.child.pid !== undefined) process.kill(-this.child.pid, signal);
    } catch {
      /* already gone */
    }
  }

  /** Closes the helper's input: it stops what runs, then exits. Resolves once it has. */
  async close(): Promise<void> {
    if (this.fifo) this.fifo.input.destroy();
    else this.input.end();
    this.busy(); // until it has gone, so that the exit is seen
    await this.closed;
  }

  private onLine(line: string): void {
    let ev: (HelperEvent | HelperReady) & { id?: number };
    try {
      ev = JSON.parse(line) as typeof ev;
    } catch {
      this.stderr.push(`raw-disk helper: ${line}`);
      return;
    }
    if (ev.event === 'ready') {
      // The helper holds its ends: no other program may open the pipes by name from now on.
      void this.fifo?.unlink();
      return;
    }
    const pending =
      ev.id !== undefined
        ? this.pending.get(ev.id)
        : this.pending.size === 1
          ? [...this.pending.values()][0]
          : undefined;
    if (!pending) return;
    if (ev.event === 'done' || ev.event === 'error') pending.settle({ kind: 'answer', event: ev });
    else pending.onEvent(ev);
  }

  /** While requests run, the helper keeps this process alive; idle, it does not. */
  private busy(): void {
    this.child.ref?.();
    this.input.ref?.();
    this.output.ref?.();
  }

  private idle(): void {
    this.child.unref?.();
    this.input.unref?.();
    this.output.unref?.();
  }
}

// --- sessions shared by a launcher that asks the user ------------------------------------------------

const shared = new Map<HelperLauncher, Promise<HelperSession>>();

/**
 * The session for `launcher`: a shared launcher's running one (started on first use, again after it
 * ended), else a new one the caller closes after its request.
 */
export async function sessionFor(launcher: HelperLauncher, argv: string[]): Promise<HelperSession> {
  if (!launcher.shared) return HelperSession.start(launcher, argv);
  const running = shared.get(launcher);
  if (running) {
    const s = await running.catch(() => undefined);
    if (s?.alive) return s;
  }
  const starting = HelperSession.start(launcher, argv);
  shared.set(launcher, starting);
  return starting;
}

/** Closes every shared session (the app quitting); the next request asks again. */
export async function closeHelperSessions(): Promise<void> {
  const all = [...shared.values()];
  shared.clear();
  await Promise.all(all.map(async (s) => (await s.catch(() => undefined))?.close()));
}
