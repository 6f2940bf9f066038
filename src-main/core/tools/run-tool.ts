/**
 * The one place that starts external processes. Arguments are always an array (never a shell
 * string); output is streamed line by line; cancellation kills the whole process group, so a
 * script's pipeline (partclone | pigz) stops too and the script's cleanup trap runs.
 *
 * Nothing started here outlives this process: each tool gets a lifeline on stdin, a pipe this
 * process holds open and never writes to, which the kernel closes when it dies (even by -9). On
 * Linux the tool runs under the tie (lima/scripts/atlas-tie.sh), which then stops the tool's
 * whole group.
 * The groups still running are known (child-groups.ts), so the job locks can record them.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { execa, type ResultPromise } from 'execa';
import { AtlasError, CancelledError } from '../errors.js';
import { addChildGroup, removeChildGroup } from './child-groups.js';
import { commandExists, tieScript } from './tie.js';

export interface RunOptions {
  signal?: AbortSignal;
  cwd?: string;
  env?: Record<string, string>;
  onStdoutLine?: (line: string) => void;
  /** stderr is split on \n and \r (progress meters redraw with \r). */
  onStderrLine?: (line: string) => void;
  /** Exit codes that count as success (default [0]). */
  okExitCodes?: number[];
  input?: string;
  /**
   * A stream for the tool's stdin instead (a partclone image for the builder, say). The tool's
   * lifeline is then that stream: cut short when this process dies, so the tool fails on it.
   */
  stdin?: Readable;
  /** Seconds between SIGTERM and SIGKILL on cancellation (and when this process dies). */
  killGraceSeconds?: number;
  /**
   * How the tool's life is tied to this process's: `tie` (the default) runs it under the tie
   * where there is one (Linux); `pass` hands the lifeline to a command that ties itself (sudo →
   * the tie, as root). A tool given `input` reads that instead.
   */
  lifeline?: 'tie' | 'pass';
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

function splitter(onLine: ((line: string) => void) | undefined, keep: string[], pattern: RegExp) {
  let rest = '';
  return {
    push(chunk: Buffer | string) {
      rest += chunk.toString();
      const parts = rest.split(pattern);
      rest = parts.pop() ?? '';
      for (const p of parts) {
        if (p.length === 0) continue;
        keep.push(p);
        if (keep.length > 400) keep.shift();
        onLine?.(p);
      }
    },
    end() {
      if (rest.length > 0) {
        keep.push(rest);
        onLine?.(rest);
      }
      rest = '';
    },
  };
}

export async function runTool(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const { signal } = options;
  if (signal?.aborted) throw new CancelledError();
  const grace = options.killGraceSeconds ?? 10;
  const lifeline = options.input === undefined && options.stdin === undefined;
  const tie = lifeline && options.lifeline !== 'pass' ? tieScript() : undefined;
  if (tie && !commandExists(command, options.env?.PATH ?? process.env.PATH)) {
    throw new AtlasError('missing-tool', `${command} is not installed`, `install ${command} and try again`);
  }
  const [file, argv] = tie ? ['bash', [tie, String(grace), command, ...args]] : [command, args];
  const child: ResultPromise = execa(file, argv, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: true,
    reject: false,
    detached: true,
    buffer: false,
    stdin:
      options.input !== undefined || options.stdin || tie || options.lifeline === 'pass' ? 'pipe' : 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const group = child.pid;
  if (group !== undefined) addChildGroup(group);
  // The lifeline is never written to: it ends when this process does.
  child.stdin?.on('error', () => undefined);
  if (options.input !== undefined) child.stdin?.end(options.input);
  // A tool that stops reading early fails on its own exit code; a stream cut short ends its stdin.
  if (options.stdin && child.stdin) pipeline(options.stdin, child.stdin).catch(() => undefined);
  const outLines: string[] = [];
  const errLines: string[] = [];
  const out = splitter(options.onStdoutLine, outLines, /\n/);
  const err = splitter(options.onStderrLine, errLines, /[\r\n]+/);
  child.stdout?.on('data', (c: Buffer) => out.push(c));
  child.stderr?.on('data', (c: Buffer) => err.push(c));

  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    const pid = child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    killTimer = setTimeout(() => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, grace * 1000);
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  let result;
  try {
    result = await child;
  } catch (e) {
    const error = e as NodeJS.ErrnoException;
    if (error.code === 'ENOENT') {
      throw new AtlasError('missing-tool', `${command} is not installed`, `install ${command} and try again`);
    }
    throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (killTimer) clearTimeout(killTimer);
    child.stdin?.destroy();
    if (group !== undefined) removeChildGroup(group);
  }
  out.end();
  err.end();
  if (signal?.aborted) throw new CancelledError();
  if (
    (result as { code?: string }).code === 'ENOENT' ||
    (result.failed && result.exitCode === undefined && result.signal === undefined)
  ) {
    throw new AtlasError(
      'missing-tool',
      `${command} could not be started`,
      `install ${command} and try again`,
    );
  }
  return { exitCode: result.exitCode ?? 1, stdout: outLines.join('\n'), stderr: errLines.join('\n') };
}

/** Runs a tool and fails with a ToolError (carrying stderr's tail) unless it exits OK. */
export async function runToolChecked(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const r = await runTool(command, args, options);
  const ok = options.okExitCodes ?? [0];
  if (!ok.includes(r.exitCode)) {
    const tail = r.stderr.split('\n').slice(-5).join('\n').trim();
    throw new AtlasError('tool-failed', `${command} failed (exit ${r.exitCode})${tail ? `: ${tail}` : ''}`);
  }
  return r;
}
