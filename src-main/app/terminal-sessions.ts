/**
 * Terminals for the VM screen: a pseudo-terminal (node-pty) running `limactl shell atlas-build`
 * on a Mac, or a login shell on a Linux build host. Output is streamed as `terminal:data`
 * events; input and size come back over their own requests. Sessions end with the window.
 */
import { randomUUID } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { isAbsolute } from 'node:path';
import * as pty from 'node-pty';
import { AtlasError } from '../core/errors.js';
import type { EventMap } from '../common/contract.js';

export interface ShellCommand {
  file: string;
  args: string[];
  cwd: string;
  title: string;
}

/** How long a closed terminal's process gets to end after the hangup. */
const KILL_AFTER_MS = 2_000;

function signal(p: pty.IPty, sig: 'SIGHUP' | 'SIGKILL'): void {
  try {
    p.kill(sig);
  } catch {
    // Already gone.
  }
}

type Emit = <K extends 'terminal:data' | 'terminal:exit'>(channel: K, payload: EventMap[K]) => void;

export class TerminalSessions {
  private readonly sessions = new Map<string, pty.IPty>();

  constructor(private readonly emit: Emit) {}

  open(command: ShellCommand, cols: number, rows: number): { id: string; title: string } {
    const id = randomUUID();
    let p: pty.IPty;
    try {
      // node-pty reports a missing program only as an early exit: check it first.
      if (isAbsolute(command.file)) accessSync(command.file, constants.X_OK);
      p = pty.spawn(command.file, command.args, {
        name: 'xterm-256color',
        cols,
        rows,
        cwd: command.cwd,
        env: { ...process.env, TERM: 'xterm-256color' } as Record<string, string>,
      });
    } catch (e) {
      throw new AtlasError(
        'tool-failed',
        `could not start ${command.file}: ${(e as Error).message}`,
        'check the VM status and the doctor findings above',
      );
    }
    this.sessions.set(id, p);
    p.onData((data) => this.emit('terminal:data', { id, data }));
    p.onExit(({ exitCode }) => {
      this.sessions.delete(id);
      this.emit('terminal:exit', { id, exitCode });
    });
    return { id, title: command.title };
  }

  input(id: string, data: string): void {
    this.get(id).write(data);
  }

  resize(id: string, cols: number, rows: number): void {
    this.get(id).resize(cols, rows);
  }

  /**
   * Hangs up, as closing a terminal window does; a process that ignores the hangup (or gets it
   * before it has set up its signal handling) is killed after a short grace period.
   */
  close(id: string): void {
    const p = this.sessions.get(id);
    if (!p) return;
    this.sessions.delete(id);
    const force = setTimeout(() => signal(p, 'SIGKILL'), KILL_AFTER_MS);
    force.unref();
    p.onExit(() => clearTimeout(force));
    signal(p, 'SIGHUP');
  }

  closeAll(): void {
    for (const id of [...this.sessions.keys()]) this.close(id);
  }

  get count(): number {
    return this.sessions.size;
  }

  private get(id: string): pty.IPty {
    const p = this.sessions.get(id);
    if (!p) throw new AtlasError('not-found', 'this terminal has ended', 'open a new terminal');
    return p;
  }
}
