// Lock files lie in the library, which may hold anything: a pipe in a lock's place never blocks
// the job that asks for the lock, and a holder's words are shown escaped.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lockOutput } from '../../src-main/core/library/job-lock.js';

const dir = mkdtempSync(join(tmpdir(), 'job-lock-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('job locks in a hostile library', () => {
  it('a pipe in the place of a lock file is not read: the job is refused, never blocked', async () => {
    mkdirSync(join(dir, 'a', '.locks'), { recursive: true });
    execFileSync('mkfifo', [join(dir, 'a', '.locks', 'golden-clone-x.lock')]);
    await expect(lockOutput(join(dir, 'a', 'golden-clone-x'), 'clone x')).rejects.toMatchObject({
      code: 'busy',
    });
  });

  it("shows a holder's words with their control characters escaped", async () => {
    mkdirSync(join(dir, 'b', '.locks'), { recursive: true });
    writeFileSync(
      join(dir, 'b', '.locks', 'golden-clone-y.lock'),
      JSON.stringify({
        pid: process.pid,
        job: 'clone\u001b[2J y',
        command: 'ods-sd\nFAKE LINE',
        since: new Date().toISOString(),
        host: hostname(),
        token: 't',
      }),
    );
    const e = await lockOutput(join(dir, 'b', 'golden-clone-y'), 'clone y').catch((err: Error) => err);
    expect((e as Error).message).toContain('clone\\x1b[2J y');
    expect((e as Error).message).toContain('ods-sd\\nFAKE LINE');
    // eslint-disable-next-line no-control-regex
    expect((e as Error).message).not.toMatch(/[\u0000-\u001f]/);
  });
});
