/** Runs ods-sd's main in this process, capturing what it prints (for tests that set its env). */
import { vi } from 'vitest';
import { main } from '../../src-main/cli/ods-sd.js';

export interface InProcessRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The JSON object on stdout's last line, when there is one. */
  json: any;
}

export async function odsSdInProcess(args: string[]): Promise<InProcessRun> {
  const out: string[] = [];
  const err: string[] = [];
  const so = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    out.push(String(c));
    return true;
  });
  const se = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
    err.push(String(c));
    return true;
  });
  let code: number;
  try {
    code = await main(args);
  } finally {
    so.mockRestore();
    se.mockRestore();
  }
  const stdout = out.join('');
  const last = stdout.trim().split('\n').pop() ?? '';
  let json: any;
  try {
    json = JSON.parse(last);
  } catch {
    json = undefined;
  }
  return { code, stdout, stderr: err.join(''), json };
}
