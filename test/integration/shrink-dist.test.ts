// Phase 2 to the smallest image and a distributable, run for real as root: resize2fs -M passes
// until it gains nothing, then --compress zst (zerofree, .img.bmap, .sha256), checked with
// zstd, sha256sum -c, bmaptool copy and e2fsck; then flash of the .img.zst by its map onto a loop
// device (in this process, and through the raw-disk helper), counting the bytes the device got.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { odsSd } from '../helpers/cli.js';
import { copyFixture, fixture, scratch } from '../helpers/fixtures.js';
import {
  attachAsDevice,
  detach,
  dumpe2fs,
  e2fsckClean,
  makeFile,
  rootChecksums,
  withPartition,
} from '../helpers/disk-tools.js';
import { rangeSha256 } from '../helpers/used-card.js';
import { startJob } from '../../src-main/core/jobs/job.js';
import { identifyRawCard } from '../../src-main/core/card-io/card-reads.js';
import { writeImage } from '../../src-main/core/write/write-pipeline.js';

const MiB = 1024 * 1024;
const RESIZE_LINK = 'etc/systemd/system/basic.target.wants/armbian-resize-filesystem.service';

/** Files written, every other one deleted, more written: free space in holes, as on a used card. */
function fragmentRoot(card: string): void {
  withPartition(
    card,
    2,
    (dev) => {
      const mnt = join(card, '..', 'mnt');
      execFileSync('mkdir', ['-p', mnt]);
      execFileSync('mount', ['-t', 'ext4', dev, mnt]);
      try {
        execFileSync('bash', [
          '-euc',
          `d=$1/home/signage/data; mkdir -p "$d"
           for i in $(seq 1 160); do head -c 262144 /dev/urandom > "$d/a$i"; done; sync
           for i in $(seq 1 2 160); do rm "$d/a$i"; done; sync
           for i in $(seq 1 40); do head -c 262144 /dev/urandom > "$d/b$i"; done`,
          'frag',
          mnt,
        ]);
      } finally {
        execFileSync('umount', [mnt]);
      }
    },
    true,
  );
}

/** Byte ranges of a bmaptool-format block map (first-last blocks, inclusive). */
function bmapRanges(bmap: string): Array<[number, number]> {
  const text = readFileSync(bmap, 'utf8');
  const bs = Number(/<BlockSize>\s*(\d+)\s*</.exec(text)![1]);
  const size = Number(/<ImageSize>\s*(\d+)\s*</.exec(text)![1]);
  return [...text.matchAll(/<Range[^>]*>\s*(\d+)(?:-(\d+))?\s*<\/Range>/g)].map((m) => [
    Number(m[1]) * bs,
    Math.min(size, (Number(m[2] ?? m[1]) + 1) * bs),
  ]);
}

/** Where a file holds a non-zero byte outside `ranges` (undefined: nowhere). */
function nonZeroOutside(path: string, ranges: Array<[number, number]>): number | undefined {
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(4 * MiB);
  try {
    let at = 0;
    const size = statSync(path).size;
    for (const [start, end] of [...ranges, [size, size] as [number, number]]) {
      while (at < start) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, start - at), at);
        const i = buf.subarray(0, n).findIndex((b) => b !== 0);
        if (i >= 0) return at + i;
        at += n;
      }
      at = Math.max(at, end);
    }
  } finally {
    closeSync(fd);
  }
  return undefined;
}

const writtenSectors = (dev: string) =>
  Number(
    readFileSync(`/sys/block/${dev.slice(5)}/stat`, 'utf8')
      .trim()
      .split(/\s+/)[6],
  );

describe('ods-sd shrink --compress zst (a distributable of the smallest image)', () => {
  let dir: string;
  let lib: string;
  let card: string;
  let result: any;
  let stderr: string;
  let zst: string;
  let plain: string;
  let cardFiles: Map<string, string>;

  beforeAll(async () => {
    dir = scratch('shrink-dist');
    lib = join(dir, 'lib');
    // A 3 GiB root with little in it: resize2fs -P estimates the minimum for the file system as
    // it is, so the first -M pass stops well above what a second one reaches.
    card = copyFixture(fixture('provisioned-booted', { rootMiB: 3072 }), dir, 'card.img');
    fragmentRoot(card);
    cardFiles = rootChecksums(card);
    const r = await odsSd([
      'shrink',
      card,
      '--version',
      '9.2.0',
      '--tag',
      'DIST',
      '--compress',
      'zst',
      '--library',
      lib,
      '--verbose',
    ]);
    expect(r.code, r.stderr).toBe(0);
    result = r.json.result;
    stderr = r.stderr;
    zst = join(lib, 'ods-atlas-clone-v9-2-0-DIST.img.zst');
    plain = join(dir, 'unpacked.img');
    execFileSync('zstd', ['-d', '-q', '-f', '-o', plain, zst]);
  });

  it('passes resize2fs -M until it gains nothing: within 5% of resize2fs -P, each pass reported', async () => {
    const passes = result.passes as Array<{ pass: number; before: number; after: number; gained: number }>;
    expect(passes.length).toBeGreaterThanOrEqual(2);
    // One pass, as the seed does, is not enough here.
    expect(passes[0]!.after).toBeGreaterThan(1.05 * result.fsMinBlocks);
    expect(passes[1]!.gained).toBeGreaterThan(0);
    for (const [i, p] of passes.entries()) {
      expect(p.gained).toBe(p.before - p.after);
      if (i > 0) expect(p.before).toBe(passes[i - 1]!.after);
    }
    expect(passes.at(-1)!.after).toBe(result.fsBlocks);
    // The file system itself, by dumpe2fs, and resize2fs -P's own estimate on the result.
    const blocks = Number(dumpe2fs(plain)['Block count']);
    expect(blocks).toBe(result.fsBlocks);
    const estimate = withPartition(plain, 2, (dev) =>
      Number(
        /minimum size of the filesystem: (\d+)/.exec(
          execFileSync('resize2fs', ['-P', dev], { encoding: 'utf8' }),
        )![1],
      ),
    );
    expect(blocks).toBeLessThanOrEqual(1.05 * estimate);
    expect(stderr).toMatch(/resize2fs -M: pass 1: \d+ -> \d+ blocks \(gained \d+\); pass 2: /);
    const m = JSON.parse(readFileSync(`${zst}.manifest.json`, 'utf8'));
    expect(m.notes.join('\n')).toMatch(
      /resize2fs -M pass 1: .*; pass 2: .*resize2fs -P estimates \d+ blocks/,
    );
  });

  it('publishes .img.zst, .img.bmap and a .sha256 that sha256sum -c accepts; no plain .img', async () => {
    expect(
      readdirSync(lib)
        .filter((f) => !f.startsWith('.'))
        .sort(),
    ).toEqual([
      'ods-atlas-clone-v9-2-0-DIST.img.bmap',
      'ods-atlas-clone-v9-2-0-DIST.img.zst',
      'ods-atlas-clone-v9-2-0-DIST.img.zst.manifest.json',
      'ods-atlas-clone-v9-2-0-DIST.img.zst.sha256',
    ]);
    const check = spawnSync('sha256sum', ['-c', 'ods-atlas-clone-v9-2-0-DIST.img.zst.sha256'], {
      cwd: lib,
      encoding: 'utf8',
    });
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout).toBe('ods-atlas-clone-v9-2-0-DIST.img.zst: OK\n');
    expect(result).toMatchObject({ compression: 'zst', zeroed: true, image: zst });
    expect(result.imageBytes).toBe(statSync(plain).size);
    expect(result.imageSha256).toBe(rangeSha256(plain, 0, statSync(plain).size));
    const l = await odsSd(['list', '--library', lib]);
    expect(l.json.result.entries).toEqual([
      expect.objectContaining({ name: 'ods-atlas-clone-v9-2-0-DIST.img.zst', phase: 2, kind: 'clone-image' }),
    ]);
  });

  it('holds every file of the card, e2fsck clean, and nothing but zeros outside its block map', () => {
    expect(e2fsckClean(plain).code).toBe(0);
    const files = rootChecksums(plain);
    files.delete(RESIZE_LINK);
    const before = new Map(cardFiles);
    before.delete(RESIZE_LINK);
    expect(files).toEqual(before);
    expect(
      nonZeroOutside(plain, bmapRanges(join(lib, 'ods-atlas-clone-v9-2-0-DIST.img.bmap'))),
    ).toBeUndefined();
  });

  it('bmaptool copy accepts the .img.zst with the .img.bmap it finds beside it', () => {
    const target = join(dir, 'bmaptool-target.img');
    execFileSync('truncate', ['-s', String(statSync(plain).size), target]);
    const bt = spawnSync('bmaptool', ['copy', zst, target], { encoding: 'utf8' });
    expect(bt.status, bt.stderr).toBe(0);
    expect(bt.stderr).toMatch(/discovered bmap file '.*ods-atlas-clone-v9-2-0-DIST\.img\.bmap'/);
    expect(e2fsckClean(target).code).toBe(0);
    expect(rootChecksums(target)).toEqual(rootChecksums(plain));
  });

  it('flash writes only the mapped ranges of the .img.zst onto a used card, and reads them back', async () => {
    const bytes = statSync(plain).size;
    const ranges = bmapRanges(join(lib, 'ods-atlas-clone-v9-2-0-DIST.img.bmap'));
    const mapped = ranges.reduce((n, [a, b]) => n + b - a, 0);
    const backing = makeFile(join(dir, 'used-card.img'), bytes + 16 * MiB, [
      [0, 64, 0xa5],
      [Math.floor(bytes / MiB) - 64, 64, 0xa5],
    ]);
    const dev = attachAsDevice(backing);
    try {
      const before = writtenSectors(dev);
      const f = await odsSd(['flash', zst, dev, '--yes', '--no-eject']);
      expect(f.code, f.stderr).toBe(0);
      expect(f.json.result).toMatchObject({ mode: 'bmap', mappedBytes: mapped });
      expect(f.json.result.cards[0]).toMatchObject({ ok: true, verified: true, writtenBytes: mapped });
      // What the device received: the mapped bytes, plus the table areas zeroed first (the first
      // MiB, 64 KiB at each partition start, the last 33 sectors: 5 pages of the device's cache).
      const received = (writtenSectors(dev) - before) * 512;
      expect(received).toBeLessThanOrEqual(mapped + MiB + 2 * 64 * 1024 + 5 * 4096);
      expect(received).toBeLessThan(bytes / 2);
      for (const [a, b] of ranges.filter((_, i) => i % 7 === 0))
        expect(rangeSha256(dev, a, b - a)).toBe(rangeSha256(plain, a, b - a));
      expect(e2fsckClean(dev).code).toBe(0);
      expect(rootChecksums(dev)).toEqual(rootChecksums(plain));
    } finally {
      detach(dev);
    }
  });

  it('the raw-disk helper writes the same mapped ranges of the .img.zst, checking their checksums', async () => {
    const bytes = statSync(plain).size;
    const backing = makeFile(join(dir, 'helper-card.img'), bytes + 16 * MiB, [[0, 64, 0xa5]]);
    const dev = attachAsDevice(backing);
    try {
      const card = await identifyRawCard(dev);
      const before = writtenSectors(dev);
      const r = await startJob('helper write', (ctx) => writeImage(zst, card, ctx, { verify: true }), {
        progressIntervalMs: 0,
      }).promise;
      expect(r).toMatchObject({ mode: 'bmap', verified: true, writtenBytes: r.mappedBytes });
      expect((writtenSectors(dev) - before) * 512).toBeLessThanOrEqual(
        r.mappedBytes! + MiB + 2 * 64 * 1024 + 5 * 4096,
      );
      expect(e2fsckClean(dev).code).toBe(0);
      expect(rootChecksums(dev)).toEqual(rootChecksums(plain));
    } finally {
      detach(dev);
    }
  });

  it('refuses a second shrink of the same name, compressed or not', async () => {
    for (const extra of [['--compress', 'xz'], []]) {
      const r = await odsSd([
        'shrink',
        card,
        '--version',
        '9.2.0',
        '--tag',
        'DIST',
        ...extra,
        '--library',
        lib,
      ]);
      expect(r.code).toBe(2);
      expect(r.json.error?.code).toBe('exists');
    }
    const bad = await odsSd([
      'shrink',
      card,
      '--version',
      '9.2.1',
      '--tag',
      'X',
      '--compress',
      'lz4',
      '--library',
      lib,
    ]);
    expect(bad.code).toBe(2);
    expect(bad.json.error?.message).toMatch(/--compress must be xz or zst/);
    expect(existsSync(join(lib, 'ods-atlas-clone-v9-2-0-DIST.img'))).toBe(false);
  });
});
