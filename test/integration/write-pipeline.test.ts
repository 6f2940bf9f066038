// The one write pipeline, run for real: an interrupted write never leaves a card that looks
// finished, a truncated image is refused before anything is written, and the raw-disk helper
// writes by the block map it is given.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { odsSd } from '../helpers/cli.js';
import { slowZstdImage } from '../helpers/slow-zstd.js';
import { copyFixture, fixture, ROOT, scratch } from '../helpers/fixtures.js';
import {
  attachAsDevice,
  detach,
  makeFile,
  rootChecksums,
  sfdiskJson,
  sha256,
} from '../helpers/disk-tools.js';
import { startJob, type JobEvent } from '../../src-main/core/jobs/job.js';
import type { AtlasError } from '../../src-main/core/errors.js';
import { flash } from '../../src-main/core/phases/flash.js';
import type { Env } from '../../src-main/core/phases/env.js';
import { identifyRawCard } from '../../src-main/core/card-io/card-reads.js';
import { writeImage } from '../../src-main/core/write/write-pipeline.js';
import { writeBmapFile } from '../../src-main/core/rawio/bmap.js';

const MiB = 1024 * 1024;

async function run<T>(fn: Parameters<typeof startJob<T>>[1], cancelWhen?: (e: JobEvent) => boolean) {
  const job = startJob('write-pipeline test', fn, { progressIntervalMs: 0 });
  const events: JobEvent[] = [];
  job.on('event', (e: JobEvent) => {
    events.push(e);
    if (cancelWhen?.(e)) job.cancel();
  });
  return job.promise.then(
    (value) => ({ value, error: undefined, events }),
    (error: unknown) => ({ value: undefined, error: error as AtlasError, events }),
  );
}

function usedCard(path: string, bytes: number, fill = 0xa5): string {
  return makeFile(path, bytes, [[0, bytes / MiB, fill]]);
}

function readAt(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(length);
  readSync(fd, buf, 0, length, offset);
  closeSync(fd);
  return buf;
}

/** What an independent look at the card finds: a partition table? a clean root file system? */
function looksFinished(card: string, layoutFrom: string): { table: boolean; e2fsck: number } {
  const sf = spawnSync('sfdisk', ['--json', card], { encoding: 'utf8' });
  const table = sf.status === 0 && (JSON.parse(sf.stdout).partitiontable?.partitions?.length ?? 0) > 0;
  // The root file system where the image's table puts it, whatever the card's table says.
  const p2 = sfdiskJson(layoutFrom).partitions[1]!;
  const loop = execFileSync(
    'losetup',
    [
      '--find',
      '--show',
      '--read-only',
      '-o',
      String(p2.start * 512),
      '--sizelimit',
      String(p2.size * 512),
      card,
    ],
    { encoding: 'utf8' },
  ).trim();
  try {
    const fsck = spawnSync('e2fsck', ['-fn', loop], { encoding: 'utf8' });
    return { table, e2fsck: fsck.status ?? -1 };
  } finally {
    detach(loop);
  }
}

describe('an interrupted write never looks finished', () => {
  let dir: string;
  let imageA: string;
  let imageC: string;
  let cardBytes: number;

  beforeAll(() => {
    dir = scratch('write-pipeline');
    // Two cards' images with the same layout and different contents.
    imageA = copyFixture(fixture('provisioned', { seed: 'card-a', fillMiB: 48 }), dir, 'a.img');
    imageC = copyFixture(fixture('provisioned', { seed: 'card-c', fillMiB: 48 }), dir, 'c.img');
    expect(sfdiskJson(imageC).partitions.map((p) => [p.start, p.size])).toEqual(
      sfdiskJson(imageA).partitions.map((p) => [p.start, p.size]),
    );
    cardBytes = statSync(imageA).size + 16 * MiB;
  });

  it('flash A, then flash C cancelled mid-write: no table, no clean file system, inspect refuses', async () => {
    const card = usedCard(join(dir, 'card-cancel.img'), cardBytes);
    const a = await odsSd(['flash', imageA, card, '--yes']);
    expect(a.code, a.stderr).toBe(0);
    expect(looksFinished(card, imageA)).toEqual({ table: true, e2fsck: 0 });

    const identity = await identifyRawCard(card);
    const r = await run(
      (ctx) => flash({} as Env, { image: imageC, cards: [card], expected: [identity] }, ctx),
      (e) => e.type === 'progress' && e.stepId === 'write' && e.doneBytes > e.totalBytes / 3,
    );
    expect(r.error?.code).toBe('cancelled');
    const seen = looksFinished(card, imageC);
    expect(seen.table).toBe(false);
    expect(seen.e2fsck).not.toBe(0);
    const inspect = await odsSd(['inspect', card]);
    expect(inspect.code).not.toBe(0);
  });

  it('flash A, then the CLI killed (SIGKILL) while it writes C: the card does not look finished', async () => {
    const card = usedCard(join(dir, 'card-kill.img'), cardBytes);
    const a = await odsSd(['flash', imageA, card, '--yes']);
    expect(a.code, a.stderr).toBe(0);
    // C as a .img.zst whose first 32 MiB decode at a card reader's pace (test/doubles/faults/zstd):
    // the write lasts seconds, not the 50 ms a plain file takes, so the kill lands mid-write.
    const { zst, env } = slowZstdImage(imageC, join(dir, 'c.img.zst'), dir);
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'ods-sd.js'), 'flash', zst, card, '--yes'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env,
    });
    const killed = await new Promise<boolean>((resolve) => {
      let writing = false;
      child.stderr.on('data', (d: Buffer) => {
        const text = d.toString();
        if (/==> Writing/.test(text)) writing = true;
        // The first progress line of the write: part of C is on the card.
        if (writing && /\d+\.\d%/.test(text) && !/100\.0%/.test(text) && child.exitCode === null) {
          child.kill('SIGKILL');
        }
      });
      child.on('close', (_code, signal) => resolve(signal === 'SIGKILL'));
    });
    expect(killed, 'the flash ended before it could be killed').toBe(true);
    const seen = looksFinished(card, imageC);
    expect(seen.table).toBe(false);
    expect(seen.e2fsck).not.toBe(0);
  });
});

describe('an interrupted restore never leaves the old card looking intact', () => {
  it(
    'restore of set A over card C, cancelled after the boot partition: C is no longer a valid card',
    { timeout: 300_000 },
    async () => {
      const dir = scratch('write-restore');
      const lib = join(dir, 'atlas-build');
      const imageA = copyFixture(fixture('provisioned', { seed: 'card-a' }), dir, 'a.img');
      const imageC = copyFixture(fixture('provisioned', { seed: 'card-c' }), dir, 'c.img');
      const c = await odsSd(['clone', imageA, 'pipeline-a', '--library', lib]);
      expect(c.code, c.stderr).toBe(0);
      const card = usedCard(join(dir, 'card.img'), statSync(imageC).size + 64 * MiB);
      const f = await odsSd(['flash', imageC, card, '--yes']);
      expect(f.code, f.stderr).toBe(0);
      expect(looksFinished(card, imageC)).toEqual({ table: true, e2fsck: 0 });
      // partclone.fat32 as it is, then a pause: the restore is interrupted with boot restored and
      // root not yet started.
      const bin = join(dir, 'bin');
      mkdirSync(bin);
      writeFileSync(
        join(bin, 'partclone.fat32'),
        `#!/bin/sh\n${execFileSync('bash', ['-c', 'command -v partclone.fat32'], { encoding: 'utf8' }).trim()} "$@"; rc=$?; sleep 60; exit $rc\n`,
        { mode: 0o755 },
      );
      const child = spawn(
        process.execPath,
        [join(ROOT, 'bin', 'ods-sd.js'), 'restore', card, 'pipeline-a', '--library', lib, '--yes'],
        { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } },
      );
      const code = await new Promise<number | null>((resolve) => {
        child.stderr.on('data', (d: Buffer) => {
          if (/==> Restoring the boot partition/.test(d.toString()))
            setTimeout(() => child.kill('SIGTERM'), 3000);
        });
        child.on('close', (n) => resolve(n));
      });
      expect(code).not.toBe(0);
      // The old root file system at the new root partition's start is gone: nothing looks finished.
      // (restore_golden.sh writes the new table first, so the table itself is there.)
      expect(looksFinished(card, imageA).e2fsck).not.toBe(0);
      const inspect = await odsSd(['inspect', card]);
      expect(inspect.code === 0 ? inspect.json.result.state : 'refused').not.toBe('provisioned');
      expect(inspect.json.result?.payloadPresent ?? false).toBe(false);
    },
  );
});

describe('flash refuses a truncated image', () => {
  let dir: string;
  let image: string;

  beforeAll(() => {
    dir = scratch('write-truncated');
    image = copyFixture(fixture('provisioned'), dir, 'truncated.img');
    truncateSync(image, statSync(image).size - 24 * MiB);
  });

  it(
    'a plain image whose table points past its end: exit 2 with a hint, before any byte is written',
    { timeout: 300_000 },
    async () => {
      const card = usedCard(join(dir, 'card-plain.img'), statSync(image).size + 64 * MiB);
      const before = sha256(card);
      const r = await odsSd(['flash', image, card, '--yes']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.json.error?.code).toBe('bad-input');
      expect(r.json.error?.message).toMatch(/truncated.*partition 2 ends at byte/);
      expect(r.json.error?.hint).toMatch(/nothing was written/);
      expect(sha256(card)).toBe(before);
    },
  );

  it(
    'the same image compressed (.xz): refused before any byte is written',
    { timeout: 300_000 },
    async () => {
      const xz = join(dir, 'truncated.img.xz');
      execFileSync('bash', ['-c', 'xz -T0 -0 -c -- "$1" > "$2"', 'x', image, xz]);
      const card = usedCard(join(dir, 'card-xz.img'), statSync(image).size + 64 * MiB);
      const before = sha256(card);
      const r = await odsSd(['flash', xz, card, '--yes']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.json.error?.message).toMatch(/truncated/);
      expect(sha256(card)).toBe(before);
    },
  );

  it(
    'compressed without a recorded size (.gz): stopped before the table is written, the card has none',
    { timeout: 300_000 },
    async () => {
      const gz = join(dir, 'truncated.img.gz');
      execFileSync('bash', ['-c', 'pigz -c -- "$1" > "$2"', 'g', image, gz]);
      const card = usedCard(join(dir, 'card-gz.img'), statSync(image).size + 64 * MiB, 0);
      const a = await odsSd(['flash', fixture('provisioned'), card, '--yes']);
      expect(a.code, a.stderr).toBe(0);
      const r = await odsSd(['flash', gz, card, '--yes']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.json.error?.message).toMatch(/partition table needs/);
      expect(spawnSync('sfdisk', ['--json', card]).status).not.toBe(0);
    },
  );
});

describe('the raw-disk helper writes by the map it is given', () => {
  let dir: string;

  beforeAll(() => {
    dir = scratch('write-helper');
  });

  it(
    'writes the .bmap beside the image with what it leaves out, and refuses ranges that do not match it',
    { timeout: 300_000 },
    async () => {
      // No partition table: the image's own map is all of it, and a downloaded map is not trusted
      // to leave anything out.
      const image = makeFile(join(dir, 'mapped.img'), 64 * MiB, [
        [0, 2, 'random'],
        [20, 4, 'random'],
        [63, 1, 'random'],
      ]);
      const ctxRun = await run((ctx) =>
        writeBmapFile(image, `${image}.bmap`, ctx, {
          ranges: [
            { start: 0, end: 2 * MiB },
            { start: 63 * MiB, end: 64 * MiB },
          ],
        }),
      );
      expect(ctxRun.error).toBeUndefined();
      const backing = usedCard(join(dir, 'helper-card.img'), 96 * MiB);
      const dev = attachAsDevice(backing);
      try {
        const card = await identifyRawCard(dev);
        const r = await run((ctx) => writeImage(image, card, ctx, { verify: true }));
        expect(r.error).toBeUndefined();
        expect(r.value?.verified).toBe(true);
        expect(r.value?.writtenBytes).toBe(64 * MiB);
        expect(readAt(dev, 0, 2 * MiB)).toEqual(readAt(image, 0, 2 * MiB));
        expect(readAt(dev, 63 * MiB, MiB)).toEqual(readAt(image, 63 * MiB, MiB));
        // What the block map leaves out of an image without a table is written and read back too.
        expect(readAt(dev, 20 * MiB, 4 * MiB)).toEqual(readAt(image, 20 * MiB, 4 * MiB));

        // A byte changed inside a mapped range: the block map's checksum stops the write, and the
        // card is left without a table.
        const fd = openSync(image, 'r+');
        writeSync(fd, Buffer.from([0x42 ^ readAt(image, 63 * MiB + 7, 1)[0]!]), 0, 1, 63 * MiB + 7);
        closeSync(fd);
        const bad = await run((ctx) => writeImage(image, card, ctx, { verify: true }));
        expect(bad.error?.code).toBe('verify-failed');
        expect(bad.error?.message).toMatch(/do not match its block map/);
        expect(readAt(dev, 0, MiB)).toEqual(Buffer.alloc(MiB, 0));
      } finally {
        detach(dev);
      }
      expect(readFileSync(`${image}.bmap`, 'utf8')).toMatch(/<bmap version="2.0">/);
    },
  );
});

describe('a valid table with many small partitions is writable', () => {
  it(
    'a GPT of 300 partitions of 32 KiB: written and verified, the card has all 300',
    { timeout: 300_000 },
    async () => {
      const dir = scratch('write-many-parts');
      const image = makeFile(join(dir, 'many.img'), 32 * MiB, []);
      const lines = ['label: gpt', 'table-length: 300', 'first-lba: 2048'];
      // The first a FAT boot partition's type, as on a Raspberry Pi card; the rest Linux.
      for (let i = 0; i < 300; i++)
        lines.push(
          `start=${2048 + i * 64}, size=64, type=${i === 0 ? 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7' : 'linux'}`,
        );
      execFileSync('sfdisk', ['--quiet', image], { input: `${lines.join('\n')}\n` });
      expect(sfdiskJson(image).partitions).toHaveLength(300);
      const card = usedCard(join(dir, 'card.img'), 48 * MiB);
      const r = await odsSd(['flash', image, card, '--yes']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json.result.cards).toEqual([expect.objectContaining({ ok: true, verified: true })]);
      const written = sfdiskJson(card).partitions;
      expect(written.map((p) => [p.start, p.size])).toEqual(
        sfdiskJson(image).partitions.map((p) => [p.start, p.size]),
      );
      // The partitions' heads hold the image's bytes (zeros), not the card's old ones.
      expect(readAt(card, 2048 * 512, 300 * 64 * 512)).toEqual(readAt(image, 2048 * 512, 300 * 64 * 512));
    },
  );
});

describe('a downloaded block map that maps too little', () => {
  let dir: string;
  let image: string;
  let files: Map<string, string>;

  beforeAll(() => {
    dir = scratch('write-short-bmap');
    image = copyFixture(fixture('provisioned', { seed: 'short-bmap', fillMiB: 24 }), dir, 'short.img');
    files = rootChecksums(image);
  });

  /** A valid .bmap of `path` (right size, right checksums) that maps only `ranges`. */
  async function shortBmap(path: string, bmap: string, ranges: Array<{ start: number; end: number }>) {
    rmSync(bmap, { force: true });
    const made = await run((ctx) => writeBmapFile(path, bmap, ctx, { ranges }));
    expect(made.error).toBeUndefined();
  }

  it.each([
    ['an empty <BlockMap>', []],
    ['only its first 2071 blocks', [{ start: 0, end: 2071 * 4096 }]],
  ])(
    "a plain image whose .bmap has %s: the image's own map is written too, and read back",
    async (_name, ranges) => {
      await shortBmap(image, `${image}.bmap`, ranges);
      const card = usedCard(join(dir, `card-${ranges.length}.img`), statSync(image).size + 16 * MiB);
      const r = await odsSd(['flash', image, card, '--yes', '--verbose']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json.result.cards).toEqual([expect.objectContaining({ ok: true, verified: true })]);
      expect(r.json.result.mappedBytes).toBeGreaterThan(24 * MiB);
      expect(looksFinished(card, image)).toEqual({ table: true, e2fsck: 0 });
      expect(rootChecksums(card)).toEqual(files);
      expect(r.stdout + r.stderr).toMatch(/short\.img\.bmap leaves out \d+ bytes the image's partitions use/);
    },
  );

  it('a compressed image whose .bmap leaves out its table: the map is refused, the image written whole', async () => {
    const zst = join(dir, 'short-z.img.zst');
    execFileSync('zstd', ['-q', '-1', '-T0', '-o', zst, '--', image]);
    await shortBmap(image, join(dir, 'short-z.img.bmap'), []);
    const card = usedCard(join(dir, 'card-zst.img'), statSync(image).size + 16 * MiB);
    const r = await odsSd(['flash', zst, card, '--yes', '--verbose']);
    expect(r.code, r.stderr).toBe(0);
    expect(looksFinished(card, image)).toEqual({ table: true, e2fsck: 0 });
    expect(rootChecksums(card)).toEqual(files);
    expect(r.stdout + r.stderr).toMatch(/short-z\.img\.bmap is not a map of this image \(it leaves out/);
    expect(r.json.result.mode).toBe('stream');
  });
});
