// The used-block copy that also makes the root's partclone image from the blocks it reads (a clone
// from a Mac: one pass over the card reader). The image must be what partclone.ext4 writes from the
// same partition; a partition that cannot be imaged so ends the image empty and the copy goes on; a
// reader of the image that stops, or a card that ends early, fails the copy and cuts the image
// short, and no copy is left behind.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFixture, fixture, scratch } from '../helpers/fixtures.js';
import { bootChecksums, e2fsckClean, rootChecksums, withPartition } from '../helpers/disk-tools.js';
import { startJob, type JobContext } from '../../src-main/core/jobs/job.js';
import { isReaderGone, readUsedToSparseFile } from '../../src-main/core/rawio/used-blocks/read-used.js';

const MiB = 1024 * 1024;
const VERSION = '0.3.23';
let dir: string;
let n = 0;

beforeAll(() => {
  dir = scratch('read-used-pc');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run<T>(fn: (ctx: JobContext) => Promise<T>, onProgress?: () => void): Promise<T> {
  const job = startJob('read-used-partclone test', fn);
  if (onProgress) job.on('event', (e) => e.type === 'progress' && onProgress());
  return job.promise;
}

/** Collects a stream's bytes, and whether it ended or was cut (closed without an end, or failed). */
function collect(s: PassThrough): Promise<{ bytes: Buffer; ended: boolean }> {
  const parts: Buffer[] = [];
  return new Promise((resolve) => {
    let ended = false;
    s.on('data', (c: Buffer) => parts.push(c));
    s.on('end', () => (ended = true));
    s.on('error', () => undefined);
    s.on('close', () => resolve({ bytes: Buffer.concat(parts), ended }));
  });
}

/** The used-block copy of `card` into `dest`, making partition 2's image into `out`. */
function readWithImage(card: string, dest: string, out: Writable, onProgress?: () => void) {
  return run(
    (ctx) => readUsedToSparseFile(card, dest, ctx, { partclone: { partition: 2, version: VERSION, out } }),
    onProgress,
  );
}

function partcloneOf(card: string): Buffer {
  return withPartition(card, 2, (dev) =>
    execFileSync('partclone.ext4', ['-c', '-s', dev, '-o', '-'], {
      maxBuffer: 512 * MiB,
      stdio: ['ignore', 'pipe', 'ignore'],
    }),
  );
}

describe('a used-block copy that makes the root partition’s partclone image as it reads', () => {
  it('gives partclone.ext4’s own bytes, and a complete copy', { timeout: 300_000 }, async () => {
    const card = fixture('provisioned', { fillMiB: 24 });
    const dest = join(dir, `copy-${++n}.img`);
    const out = new PassThrough();
    const got = collect(out);
    const r = await readWithImage(card, dest, out);
    const image = await got;
    expect(image.ended).toBe(true);
    expect(r.partclone).toEqual({ bytes: image.bytes.length });
    expect(image.bytes.equals(partcloneOf(card))).toBe(true);
    expect(e2fsckClean(dest).code).toBe(0);
    expect(rootChecksums(dest)).toEqual(rootChecksums(card));
  });

  it(
    'sends the image’s first bytes only once the table and the boot partition are in the copy',
    { timeout: 300_000 },
    async () => {
      const card = fixture('provisioned', { fillMiB: 24 });
      const dest = join(dir, `copy-${++n}.img`);
      let atFirstByte: { table: string; boot: Map<string, string> } | undefined;
      const out = new Writable({
        write(_chunk: Buffer, _enc, cb) {
          // What a builder started on the first byte finds in the copy.
          atFirstByte ??= {
            table: execFileSync('sfdisk', ['--dump', dest], { encoding: 'utf8' }),
            boot: bootChecksums(dest),
          };
          cb();
        },
      });
      await readWithImage(card, dest, out);
      expect(atFirstByte).toBeDefined();
      expect(atFirstByte!.table.replaceAll(dest, 'CARD')).toBe(
        execFileSync('sfdisk', ['--dump', card], { encoding: 'utf8' }).replaceAll(card, 'CARD'),
      );
      expect(atFirstByte!.boot).toEqual(bootChecksums(card));
      expect(atFirstByte!.boot.size).toBeGreaterThan(0);
    },
  );

  it(
    'ends the image empty when the partition is not ext, and still copies the card',
    { timeout: 300_000 },
    async () => {
      const card = fixture('no-ext4');
      const dest = join(dir, `copy-${++n}.img`);
      const out = new PassThrough();
      const got = collect(out);
      const r = await readWithImage(card, dest, out);
      const image = await got;
      expect(image).toEqual({ bytes: Buffer.alloc(0), ended: true });
      expect(r.partclone?.bytes).toBe(0);
      expect(r.partclone?.refused).toMatch(/partition 2/);
      expect(existsSync(dest)).toBe(true);
      expect(r.mappedBytes).toBeGreaterThan(0);
    },
  );

  it(
    'is not made when another partition lies after the root: the copy goes on',
    { timeout: 300_000 },
    async () => {
      // A data partition after the root: a builder starting on the image's first byte would find it
      // not copied yet.
      const card = copyFixture(fixture('provisioned', { fillMiB: 24 }), dir, `third-${++n}.img`);
      const size = statSync(card).size;
      truncateSync(card, size + 16 * MiB);
      execFileSync('sfdisk', ['--append', '--no-reread', '-q', card], {
        input: `start=${size / 512}, size=${(8 * MiB) / 512}, type=83\n`,
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      const dest = join(dir, `copy-${n}.img`);
      const out = new PassThrough();
      const got = collect(out);
      const r = await readWithImage(card, dest, out);
      expect((await got).bytes.length).toBe(0);
      expect(r.partclone?.refused).toBe('partition 3 does not lie before partition 2 on the card');
      expect(rootChecksums(dest)).toEqual(rootChecksums(card));
    },
  );

  it('fails, and leaves no copy, when the image’s reader stops taking it', { timeout: 300_000 }, async () => {
    const card = fixture('provisioned', { fillMiB: 24 });
    const dest = join(dir, `copy-${++n}.img`);
    let taken = 0;
    const out = new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer, _enc, cb) {
        taken += chunk.length;
        // The builder's script failed after its first megabyte: its stdin is closed.
        if (taken > MiB) this.destroy();
        else cb();
      },
    });
    const e = await readWithImage(card, dest, out).catch((err: unknown) => err);
    expect(e).toMatchObject({ code: 'tool-failed' });
    expect(String((e as Error).message)).toMatch(/^the builder stopped taking the partition image/);
    // The clone then reports the script's own failure, not this one.
    expect(isReaderGone(e)).toBe(true);
    expect(existsSync(dest)).toBe(false);
  });

  it(
    'cuts the image short with the error when the card ends during the copy',
    { timeout: 300_000 },
    async () => {
      const card = copyFixture(fixture('provisioned', { fillMiB: 24 }), dir, `short-${++n}.img`);
      const dest = join(dir, `copy-${n}.img`);
      const out = new PassThrough();
      const got = collect(out);
      let cut = false;
      const e = await readWithImage(card, dest, out, () => {
        // The card is pulled once the copy has started: everything past its first 300 MiB is gone.
        if (!cut) truncateSync(card, 300 * MiB);
        cut = true;
      }).catch((err: unknown) => err);
      expect(e).toMatchObject({ code: 'card-changed' });
      const image = await got;
      expect(image.ended).toBe(false);
      expect(existsSync(dest)).toBe(false);
    },
  );
});
