/** Runs the built ods-sd CLI as a real process, the way a user does. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './fixtures.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The JSON object on stdout's last line (--json is always passed). */
  json: {
    ok: boolean;
    command?: string;
    result?: any;
    error?: { code: string; message: string; hint?: string };
  };
}

export function odsSd(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; input?: string } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'ods-sd.js'), ...args, '--json'], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(opts.input ?? '');
    child.on('error', reject);
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      let json;
      try {
        json = JSON.parse(last);
      } catch {
        json = { ok: false, error: { code: 'no-json', message: `no JSON on the last line: ${last}` } };
      }
      resolve({ code: code ?? -1, stdout, stderr, json });
    });
  });
}
