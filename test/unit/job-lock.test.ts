import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AtlasError } from '../../src-main/core/errors.js';
import { lockCard, lockOutput, withJobLocks } from '../../src-main/core/library/job-lock.js';

const dir = mkdtempSync(join(tmpdir(), 'job-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(r.stdout);
}

function plant(path: string, fields: Record<string, unknown>): void {
  mkdirSync(join(path, '..'), { recursive: true });
  const holder = {
    pid: 1,
    job: 'old job',
    command: 'ods-sd old',
    since: new Date().toISOString(),
    host: hostname(),
    token: 't',
    ...fields,
  };
  writeFileSync(path, JSON.stringify(holder));
}

describe('job locks', () => {
  it('refuses a second holder with a typed error that names the first, and frees on release', async () => {
    const out = join(dir, 'lib', 'golden-clone-a');
    const lock = await lockOutput(out, 'clone golden-clone-a');
    expect(lock.path).toBe(join(dir, 'lib', '.locks', 'golden-clone-a.lock'));
    expect(JSON.parse(readFileSync(lock.path, 'utf8'))).toMatchObject({
      pid: process.pid,
      job: 'clone golden-clone-a',
    });
    const second = await lockOutput(out, 'clone golden-clone-a').catch((e: unknown) => e);
    expect(second).toBeInstanceOf(AtlasError);
    expect(second).toMatchObject({ code: 'busy', exitCode: 2 });
    expect((second as AtlasError).message).toMatch(`clone golden-clone-a (pid ${process.pid}, `);
    expect((second as AtlasError).hint).toContain(lock.path);
    await lock.release();
    expect(existsSync(lock.path)).toBe(false);
    await (await lockOutput(out, 'again')).release();
  });

  it('takes over a lock whose process is gone, or whose pid now belongs to another process', async () => {
    const out = join(dir, 'lib', 'stale');
    const path = join(dir, 'lib', '.locks', 'stale.lock');
    plant(path, { pid: deadPid() });
    const a = await lockOutput(out, 'new job');
    expect(JSON.parse(readFileSync(path, 'utf8')).job).toBe('new job');
    await a.release();
    if (process.platform === 'linux') {
      plant(path, { pid: process.pid, procStart: '1' }); // a live pid, started at another time
      await (await lockOutput(out, 'new job')).release();
    }
  });

  it("keeps another machine's lock (a shared library): it cannot tell whether that job runs", async () => {
    const path = join(dir, 'lib', '.locks', 'remote.lock');
    plant(path, { pid: deadPid(), host: 'some-other-mac' });
    await expect(lockOutput(join(dir, 'lib', 'remote'), 'x')).rejects.toThrow(/on some-other-mac/);
  });

  it('locks a card by what it is, not by how it is named', async () => {
    const card = join(dir, 'card.img');
    writeFileSync(card, 'x');
    const link = join(dir, 'card-link.img');
    spawnSync('ln', ['-s', card, link]);
    const lock = await lockCard(card, 'flash a.img');
    await expect(lockCard(link, 'flash b.img')).rejects.toThrow(
      /the card .*card-link.img is in use by another job: flash a.img/,
    );
    await lock.release();
  });

  it('withJobLocks keeps nothing when one lock is refused, and releases after a failure', async () => {
    const held = await lockOutput(join(dir, 'lib', 'two'), 'holder');
    await expect(
      withJobLocks(
        [() => lockOutput(join(dir, 'lib', 'one'), 'j'), () => lockOutput(join(dir, 'lib', 'two'), 'j')],
        async () => 1,
      ),
    ).rejects.toMatchObject({ code: 'busy' });
    expect(existsSync(join(dir, 'lib', '.locks', 'one.lock'))).toBe(false);
    await held.release();
    await expect(
      withJobLocks([() => lockOutput(join(dir, 'lib', 'one'), 'j')], async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(existsSync(join(dir, 'lib', '.locks', 'one.lock'))).toBe(false);
  });
});
