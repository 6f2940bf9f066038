// The image of a write is opened once: planned, written and read back through that one
// descriptor. A pipe or a link put at its path afterwards is never read, and one given as the
// image is refused at once (nothing waits on a pipe, and the message says what the path is).
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJob } from '../../src-main/core/jobs/job.js';
import type { AtlasError } from '../../src-main/core/errors.js';
import { closeSource, openSource } from '../../src-main/core/write/open-source.js';
import { writeImage } from '../../src-main/core/write/write-pipeline.js';
import { identifyRawCard } from '../../src-main/core/card-io/card-reads.js';
import { HELPER_PATH } from '../../src-main/core/cards/helper-client.js';

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A small image: a table of two partitions and random bytes in them. */
function makeImage(path: string, compress?: 'zst'): string {
  writeFileSync(path, '');
  truncateSync(path, 16 * MiB);
  execFileSync('sfdisk', ['--quiet', path], {
    input: 'label: dos\nstart=2048, size=8192, type=c\nstart=10240, type=83\n',
  });
  execFileSync('dd', [
    `if=/dev/urandom`,
    `of=${path}`,
    'bs=1M',
    'seek=1',
    'count=14',
    'conv=notrunc',
    'status=none',
  ]);
  if (!compress) return path;
  execFileSync('zstd', ['-q', '-1', '-o', `${path}.zst`, '--', path]);
  return `${path}.zst`;
}

async function run<T>(fn: Parameters<typeof startJob<T>>[1]) {
  const job = startJob('write-source test', fn, { progressIntervalMs: 0 });
  return job.promise.then(
    (value) => ({ value, error: undefined }),
    (error: unknown) => ({ value: undefined, error: error as AtlasError }),
  );
}

describe('the image of a write is opened once', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'atlas-source-once-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([['a plain image'], ['a compressed image (.img.zst)']])(
    '%s replaced by a FIFO after it was planned: written and verified from the file that was planned',
    async (kind) => {
      const sub = mkdtempSync(join(dir, 'swap-'));
      const plain = join(sub, 'a.img');
      const image = makeImage(plain, kind.includes('zst') ? 'zst' : undefined);
      const original = readFileSync(plain);
      const card = join(sub, 'card.img');
      writeFileSync(card, Buffer.alloc(24 * MiB, 0xa5));
      const source = await openSource(image);
      try {
        // The plan is made; now a pipe nobody writes to takes the image's place.
        const fifo = join(sub, 'fifo');
        execFileSync('mkfifo', [fifo]);
        renameSync(fifo, image);
        const identity = await identifyRawCard(card);
        const r = await run((ctx) => writeImage(source, identity, ctx, { verify: true }));
        expect(r.error).toBeUndefined();
        expect(r.value?.verified).toBe(true);
        expect(sha(readFileSync(card).subarray(0, original.length))).toBe(sha(original));
      } finally {
        await closeSource(source);
      }
    },
    30_000,
  );

  it('a FIFO given as the image is refused at once, saying it is not a regular file', async () => {
    const fifo = join(dir, 'pipe.img');
    execFileSync('mkfifo', [fifo]);
    await expect(openSource(fifo)).rejects.toMatchObject({
      code: 'bad-input',
      message: expect.stringMatching(/pipe\.img is not a regular file/),
    });
  });

  it('a symbolic link given as the image is refused, naming it a link', async () => {
    const image = makeImage(join(dir, 'real.img'));
    const link = join(dir, 'link.img');
    symlinkSync(image, link);
    await expect(openSource(link)).rejects.toMatchObject({
      code: 'bad-input',
      message: expect.stringMatching(/link\.img is a symbolic link/),
      hint: expect.stringMatching(/the image file itself/),
    });
  });

  it('the raw-disk helper refuses a FIFO as the source of a write instead of waiting on it', async () => {
    const fifo = join(dir, 'helper-pipe.img');
    execFileSync('mkfifo', [fifo]);
    const child = spawn(process.execPath, [HELPER_PATH], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stdin.write(
      `${JSON.stringify({ op: 'write', device: '/dev/sdz', expect: { bytes: 64 * MiB }, source: fifo, verify: true })}\n`,
    );
    // A helper that waits on the pipe is stopped, and the test fails below.
    const stop = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
    clearTimeout(stop);
    const event = JSON.parse(out.trim().split('\n').pop() || '{}') as { event?: string; message?: string };
    expect(event.event).toBe('error');
    expect(event.message).toMatch(/helper-pipe\.img is not a regular file/);
    expect(code).not.toBe(0);
  }, 30_000);
});
