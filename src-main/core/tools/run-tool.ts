/**
 * The one place that starts external processes. Arguments are always an array (never a shell
 * string); output is streamed line by line; cancellation kills the whole process group, so a
 * script's pipeline (partclone | pigz) stops too and the script's cleanup trap runs.
 */
import { execa, type ResultPromise } from 'execa';
import { AtlasError, CancelledError } from '../errors.js';

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
  /** Seconds between SIGTERM and SIGKILL on cancellation. */
  killGraceSeconds?: number;
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
  const child: ResultPromise = execa(command, args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: true,
    reject: false,
    detached: true,
    buffer: false,
    stdin: options.input !== undefined ? 'pipe' : 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  if (options.input !== undefined) child.stdin?.end(options.input);
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
    killTimer = setTimeout(
      () => {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      },
      (options.killGraceSeconds ?? 10) * 1000,
    );
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
  }
  out.end();
  err.end();
  if (signal?.aborted) throw new CancelledError();
  if ((result as { code?: string }).code === 'ENOENT' || (result.failed && result.exitCode === undefined)) {
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
