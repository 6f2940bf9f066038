// Two jobs on the same output or the same card, run as real ods-sd processes: the second is
// refused at once, told which job holds it; a holder killed with -9 leaves a stale lock that the
// next job takes over.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { odsSd } from '../helpers/cli.js';
import { slowZstdImage } from '../helpers/slow-zstd.js';
import { copyFixture, fixture, ROOT, scratch } from '../helpers/fixtures.js';
import { attachAsDevice, detach, loopDevicesFor, sha256 } from '../helpers/disk-tools.js';
import { cardLockDir } from '../../src-main/core/library/job-lock.js';
import { startJob } from '../../src-main/core/jobs/job.js';
import { clone } from '../../src-main/core/phases/clone.js';
import { LocalBuilder } from '../../src-main/core/builder/local-builder.js';

/** Starts ods-sd in its own process group, so a test can stop or kill it with its tools. */
function start(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): { child: ChildProcess; done: Promise<number | null> } {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'ods-sd.js'), ...args, '--json'], {
    stdio: ['ignore', 'ignore', 'ignore'],
    detached: true,
    env,
  });
  return { child, done: new Promise((r) => child.on('close', (code) => r(code))) };
}

async function until(what: string, test: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Loop devices a killed job left on `file` (`losetup -j` prints "/dev/loopN: ...").  */
function detachAll(file: string): void {
  for (const line of loopDevicesFor(file)) detach(line.split(':')[0]!);
}

describe('one job per output and per card', () => {
  let dir: string;
  let lib: string;
  let source: string;
  const attached: string[] = [];

  beforeAll(() => {
    dir = scratch('locks');
    lib = join(dir, 'atlas-build');
    source = copyFixture(fixture('provisioned'), dir, 'dev-card.img');
  });

  afterAll(() => {
    for (const dev of attached) detach(dev);
    detachAll(source);
  });

  it('a second clone to the same name, or of the same card, is refused at once, naming the holder', async () => {
    const first = start(['clone', source, 'keep', '--library', lib]);
    const lock = join(lib, '.locks', 'golden-clone-keep.lock');
    // Its unfinished output appears once it holds both locks (the set's and the card's).
    await until('the first clone to start', () => existsSync(join(lib, 'golden-clone-keep.partial')));
    process.kill(first.child.pid!, 'SIGSTOP'); // it holds the locks for as long as the test needs
    try {
      expect(existsSync(lock)).toBe(true);
      const other = copyFixture(source, dir, 'other.img');
      const t0 = Date.now();
      const same = await odsSd(['clone', other, 'keep', '--library', lib]);
      expect(same.code, same.stderr).toBe(2);
      expect(same.json.error?.code).toBe('busy');
      expect(same.json.error?.message).toMatch(
        new RegExp(
          `golden-clone-keep is in use by another job: clone golden-clone-keep \\(pid ${first.child.pid}, ods-sd clone .* keep`,
        ),
      );
      expect(same.json.error?.hint).toContain(lock);
      expect(Date.now() - t0).toBeLessThan(15_000);
      const card = await odsSd(['clone', source, 'another', '--library', lib]);
      expect(card.code, card.stderr).toBe(2);
      expect(card.json.error?.message).toMatch(
        /the card .*dev-card.img is in use by another job: clone golden-clone-keep/,
      );
      // The refused jobs touched nothing: the first job's unfinished output is still there.
      expect(existsSync(join(lib, 'golden-clone-keep.partial'))).toBe(true);
      expect(existsSync(join(lib, 'golden-clone-another.partial'))).toBe(false);
    } finally {
      process.kill(first.child.pid!, 'SIGCONT');
    }
    expect(await first.done).toBe(0);
    expect(existsSync(join(lib, 'golden-clone-keep', 'manifest.json'))).toBe(true);
    // Released on success: no lock is left, and the next job on the card runs.
    expect(existsSync(lock)).toBe(false);
    const { dev, ino } = statSync(source);
    expect(existsSync(join(cardLockDir(), `card-file-${dev}-${ino}.lock`))).toBe(false);
  });

  it('two flashes to the same loop-device card: the second is refused, the first completes', async () => {
    const image = copyFixture(fixture('provisioned'), dir, 'ods-atlas-clone-v1-0-0-LOCK.img');
    const cardFile = join(dir, 'card.img');
    writeFileSync(cardFile, '');
    const { size } = statSync(image);
    await import('node:fs/promises').then((f) => f.truncate(cardFile, size + 8 * 1024 * 1024));
    const dev = attachAsDevice(cardFile);
    attached.push(dev);
    const lock = join(cardLockDir(), `card-dev-${statSync(dev).rdev}.lock`);
    // The first writes a .img.zst decoded at a card reader's pace (test/doubles/faults/zstd): it
    // holds the card for seconds, long enough to be seen and stopped while it does.
    const { zst, env } = slowZstdImage(image, `${image}.zst`, dir);
    const first = start(['flash', zst, dev, '--yes'], env);
    await until('the first flash to take the card', () => existsSync(lock));
    process.kill(first.child.pid!, 'SIGSTOP');
    try {
      const second = await odsSd(['flash', image, dev, '--yes']);
      expect(second.code, second.stderr).toBe(2);
      expect(second.json.error?.code).toBe('busy');
      expect(second.json.error?.message).toMatch(
        new RegExp(
          `the card ${dev} is in use by another job: flash ods-atlas-clone-v1-0-0-LOCK.img.zst \\(pid ${first.child.pid}, ods-sd flash`,
        ),
      );
    } finally {
      process.kill(first.child.pid!, 'SIGCONT');
    }
    expect(await first.done).toBe(0);
    expect(existsSync(lock)).toBe(false);
  });

  it('a holder killed with -9 leaves a stale lock that the next job takes over', async () => {
    const first = start(['clone', source, 'killed', '--library', lib]);
    const lock = join(lib, '.locks', 'golden-clone-killed.lock');
    await until('the first clone to take its lock', () => existsSync(lock));
    process.kill(first.child.pid!, 'SIGSTOP');
    process.kill(-first.child.pid!, 'SIGKILL'); // the CLI and its tools, without any cleanup
    await first.done;
    detachAll(source);
    expect(JSON.parse(readFileSync(lock, 'utf8')).pid).toBe(first.child.pid);
    const next = await odsSd(['clone', source, 'killed', '--library', lib]);
    expect(next.code, next.stderr).toBe(0);
    expect(existsSync(lock)).toBe(false);
    const m = JSON.parse(readFileSync(join(lib, 'golden-clone-killed', 'manifest.json'), 'utf8'));
    for (const f of m.files) expect(sha256(join(lib, 'golden-clone-killed', f.name))).toBe(f.sha256);
  });

  it('a process that exits while holding a lock leaves none behind', () => {
    const out = join(lib, 'exiting');
    const script = `import('${join(ROOT, 'dist/src-main/core/library/job-lock.js')}').then(async (m) => { await m.lockOutput(${JSON.stringify(out)}, 'j'); process.exit(3); });`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(3);
    expect(existsSync(join(lib, '.locks', 'exiting.lock'))).toBe(false);
  });

  it('a cancelled job releases its locks', async () => {
    const env = { builder: new LocalBuilder(), library: lib };
    const job = startJob('clone', (ctx) => clone(env, { card: source, name: 'cancelled' }, ctx));
    let held = false;
    job.on('event', (e) => {
      if (e.type === 'step' && e.step.id === 'clone-root') {
        held = existsSync(join(lib, '.locks', 'golden-clone-cancelled.lock'));
        job.cancel();
      }
    });
    await expect(job.promise).rejects.toMatchObject({ code: 'cancelled' });
    expect(held).toBe(true);
    expect(existsSync(join(lib, '.locks', 'golden-clone-cancelled.lock'))).toBe(false);
    const { dev, ino } = statSync(source);
    expect(existsSync(join(cardLockDir(), `card-file-${dev}-${ino}.lock`))).toBe(false);
  });
});
