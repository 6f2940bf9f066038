// Block maps in bmaptool's format: ours are accepted by the real bmaptool (file checksum and range
// checksums), bmaptool's are accepted by us, and mapped writes put exactly the mapped bytes down.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { scratch } from '../helpers/fixtures.js';
import { MiB, patternFile, writePattern } from '../helpers/used-card.js';
import { startJob, type JobContext, type JobEvent } from '../../src-main/core/jobs/job.js';
import {
  bmapByteRanges,
  createBmap,
  parseBmap,
  readBmap,
  renderBmap,
  writeBmapFile,
  type Bmap,
} from '../../src-main/core/rawio/bmap.js';
import { writeByRanges } from '../helpers/write-source.js';

let dir: string;
let image: string;
const SIZE = 9 * MiB + 1000; // not a multiple of the block size: the last block is partial
const DATA = [
  { start: 0, end: 8192 },
  { start: 3 * MiB, end: 3 * MiB + 1_500_000 },
  { start: 9 * MiB, end: SIZE },
];

function run<T>(fn: (ctx: JobContext) => Promise<T>, events: JobEvent[] = []): Promise<T> {
  const job = startJob('bmap test', fn, { progressIntervalMs: 0 });
  job.on('event', (e) => events.push(e));
  return job.promise;
}

function sha(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

function emptyFile(name: string, bytes: number): string {
  const p = join(dir, name);
  writeFileSync(p, '');
  execFileSync('truncate', ['-s', String(bytes), p]);
  return p;
}

beforeAll(() => {
  dir = scratch('bmap');
  image = emptyFile('small.img', SIZE);
  for (const r of DATA) writePattern(image, r.start, r.end - r.start, `data-${r.start}`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bmap files', () => {
  it('round-trips: what we write parses back to the same map, with a checksum per range', async () => {
    const { bmap, text } = await run((ctx) => createBmap(image, ctx, { ranges: DATA }));
    // Well-formed XML: no "--" inside comments, even for image names that contain it.
    expect(
      renderBmap(bmap, 'a--b.img')
        .match(/<!--([\s\S]*?)-->/g)!
        .every((c) => !c.slice(4, -3).includes('--')),
    ).toBe(true);
    expect(bmap).toMatchObject({
      version: '2.0',
      imageSize: SIZE,
      blockSize: 4096,
      blocksCount: Math.ceil(SIZE / 4096),
    });
    expect(bmap.ranges.map((r) => [r.first, r.last])).toEqual([
      [0, 1],
      [768, 768 + Math.ceil(1_500_000 / 4096) - 1],
      [2304, 2304],
    ]);
    expect(parseBmap(text)).toEqual(bmap);
    const img = readFileSync(image);
    for (const [i, r] of bmapByteRanges(bmap).entries()) {
      expect(bmap.ranges[i]!.checksum).toBe(sha(img.subarray(r.start, r.end)));
    }
    expect(text).toMatch(/<BmapFileChecksum> [0-9a-f]{64} <\/BmapFileChecksum>/);
  });

  it('is accepted by the real bmaptool, which then writes the image exactly', async () => {
    const bmapPath = join(dir, 'small.bmap');
    await run((ctx) => writeBmapFile(image, bmapPath, ctx, { ranges: DATA }));
    const target = join(dir, 'bmaptool-target.img');
    patternFile(target, SIZE, 'stale'); // bmaptool keeps unmapped bytes: only mapped ones may differ
    const r = spawnSync('bmaptool', ['copy', '--bmap', bmapPath, image, target], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const before = readFileSync(bmapPath, 'utf8');
    await expect(run((ctx) => writeBmapFile(image, bmapPath, ctx, 'nonzero-scan'))).rejects.toMatchObject({
      code: 'exists',
    });
    expect(readFileSync(bmapPath, 'utf8')).toBe(before);
    const out = readFileSync(target);
    const img = readFileSync(image);
    for (const d of DATA) expect(sha(out.subarray(d.start, d.end))).toBe(sha(img.subarray(d.start, d.end)));
  });

  it('a changed bmap is refused by bmaptool and by us', async () => {
    const { text } = await run((ctx) => createBmap(image, ctx, { ranges: DATA }));
    const tampered = text.replace('<Range chksum', '<Range  chksum');
    const p = join(dir, 'tampered.bmap');
    writeFileSync(p, tampered);
    const target = emptyFile('tampered-target.img', SIZE);
    const r = spawnSync('bmaptool', ['copy', '--bmap', p, image, target], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/checksum mismatch for bmap file/);
    expect(() => parseBmap(tampered)).toThrow(/own checksum is wrong/);
  });

  it('reads and checks a bmap made by bmaptool create, and writes with it', async () => {
    const sparse = emptyFile('sparse.img', 16 * MiB);
    writePattern(sparse, 2 * MiB, 5000, 'a');
    writePattern(sparse, 10 * MiB, MiB, 'b');
    const p = join(dir, 'theirs.bmap');
    execFileSync('bmaptool', ['create', '-o', p, sparse], { stdio: 'pipe' });
    const theirs = await readBmap(p);
    expect(theirs.checksumType).toBe('sha256');
    expect(theirs.imageSize).toBe(16 * MiB);
    const ranges = bmapByteRanges(theirs);
    expect(ranges.some((x) => x.start <= 2 * MiB && x.end >= 2 * MiB + 5000)).toBe(true);
    expect(ranges.some((x) => x.start <= 10 * MiB && x.end >= 11 * MiB)).toBe(true);
    const target = emptyFile('theirs-target.img', 16 * MiB);
    const w = await run((ctx) => writeByRanges(sparse, theirs, target, ctx));
    expect(w.mappedBytes).toBe(theirs.mappedBlocksCount * 4096);
    expect(sha(readFileSync(target))).toBe(sha(readFileSync(sparse)));
  });

  it('nonzero-scan maps the 1 MiB blocks that are not all zeros', async () => {
    const { bmap } = await run((ctx) => createBmap(image, ctx, 'nonzero-scan'));
    expect(bmapByteRanges(bmap)).toEqual([
      { start: 0, end: MiB },
      { start: 3 * MiB, end: 5 * MiB },
      { start: 9 * MiB, end: SIZE },
    ]);
  });

  it('refuses block maps that do not add up', () => {
    const base: Bmap = {
      version: '2.0',
      imageSize: 10 * 4096,
      blockSize: 4096,
      blocksCount: 10,
      mappedBlocksCount: 3,
      checksumType: 'sha256',
      ranges: [
        { first: 0, last: 1 },
        { first: 5, last: 5 },
      ],
    };
    expect(parseBmap(renderBmap(base)).ranges).toHaveLength(2);
    expect(() => parseBmap(renderBmap({ ...base, blocksCount: 11 }))).toThrow(/do not make an image/);
    expect(() => parseBmap(renderBmap({ ...base, mappedBlocksCount: 4 }))).toThrow(/MappedBlocksCount/);
    expect(() =>
      parseBmap(
        renderBmap({
          ...base,
          ranges: [
            { first: 1, last: 3 },
            { first: 3, last: 3 },
          ],
        }),
      ),
    ).toThrow(/overlaps/);
    expect(() => parseBmap(renderBmap({ ...base, ranges: [{ first: 8, last: 10 }] }))).toThrow(
      /past the end/,
    );
    expect(() => parseBmap(renderBmap({ ...base, version: '3.0' }))).toThrow(/newer than 2.x/);
    expect(() => parseBmap('<bmap>')).toThrow(/version/);
  });

  it('reads a hostile block map in one pass: long runs of spaces, unclosed comments and tags', async () => {
    const base: Bmap = {
      version: '1.2', // no checksum of its own, so junk can be added without breaking one
      imageSize: 10 * 4096,
      blockSize: 4096,
      blocksCount: 10,
      mappedBlocksCount: 3,
      ranges: [
        { first: 0, last: 1 },
        { first: 5, last: 5 },
      ],
    };
    const plain = renderBmap(base);
    // Patterns that backtrack would take minutes or hours on each of these.
    const unclosed = `<bmap version="2.0"><ChecksumType>${' '.repeat(200_000)}sha256`;
    expect(() => parseBmap(unclosed)).toThrow(/unknown checksum type/);
    expect(() => parseBmap('<!--'.repeat(100_000))).toThrow(/no <bmap version/);
    const openTags = plain.replace('</BlockMap>', `${'<Range '.repeat(100_000)}</BlockMap>`);
    expect(parseBmap(openTags).ranges).toEqual(base.ranges);
    const spaced = plain.replace('<Range>', `<Range>${' '.repeat(100_000)}`);
    expect(parseBmap(spaced).ranges).toEqual(base.ranges);
    // A range that is not one block or first-last, and numbers too long to be exact, are refused.
    expect(() => parseBmap(plain.replace(/<Range>[^<]*</, '<Range> 0-x <'))).toThrow(/not "first-last"/);
    expect(() => parseBmap(plain.replace(/<ImageSize>[^<]*</, `<ImageSize>${'9'.repeat(20)}<`))).toThrow(
      /ImageSize/,
    );
    // A file far larger than any block map, or not a file, is not read at all.
    const huge = join(dir, 'huge.bmap');
    execFileSync('truncate', ['-s', String(64 * MiB), huge]);
    await expect(readBmap(huge)).rejects.toThrow(/more than any block map needs/);
    await expect(readBmap(dir)).rejects.toThrow(/not a regular file/);
  });
});

describe('a write by a block map (the write pipeline)', () => {
  it('stops with verify-failed when the image no longer matches its bmap', async () => {
    const copy = join(dir, 'changed.img');
    writeFileSync(copy, readFileSync(image));
    const { bmap } = await run((ctx) => createBmap(copy, ctx, { ranges: DATA }));
    writePattern(copy, 3 * MiB + 100, 1, 'flip');
    const target = emptyFile('changed-target.img', SIZE);
    const err = await run((ctx) => writeByRanges(copy, bmap, target, ctx)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'verify-failed' });
    expect((err as Error).message).toMatch(new RegExp(`bytes ${3 * MiB}-`));
  });

  it('refuses a target smaller than the image and a bmap of another image', async () => {
    const { bmap } = await run((ctx) => createBmap(image, ctx, { ranges: DATA }));
    const tiny = emptyFile('tiny-target.img', MiB);
    await expect(run((ctx) => writeByRanges(image, bmap, tiny, ctx))).rejects.toMatchObject({
      code: 'too-small',
    });
    const target = emptyFile('other-image-target.img', 2 * SIZE);
    await expect(
      run((ctx) => writeByRanges(image, { ...bmap, imageSize: SIZE + 1 }, target, ctx)),
    ).rejects.toMatchObject({
      code: 'bad-input',
    });
  });

  it('writes the first 1 MiB last, after a sync, and zeroes a stale backup GPT on a larger card', async () => {
    const targetBytes = 12 * MiB;
    const path = join(dir, 'order-target.img');
    patternFile(path, targetBytes, 'old-card');
    const log: string[] = [];
    // Every write and sync of the card's handle, in order (the handle is the pipeline's own).
    const proto = Object.getPrototypeOf(await open(path, 'r').then(async (h) => (await h.close(), h))) as {
      write: FileHandle['write'];
      sync: FileHandle['sync'];
    };
    const onCard = (fh: FileHandle) => {
      try {
        return realpathSync(`/proc/self/fd/${fh.fd}`) === realpathSync(path);
      } catch {
        return false;
      }
    };
    const { write: realWrite, sync: realSync } = proto;
    const write = vi.spyOn(proto, 'write').mockImplementation(function (this: FileHandle, ...args) {
      const [data, , len, pos] = args as [Buffer, number, number, number];
      if (onCard(this))
        log.push(`write ${pos} ${data.subarray(0, len).some((b) => b !== 0) ? 'data' : 'zeros'}`);
      return realWrite.apply(this, args);
    } as FileHandle['write']);
    const sync = vi.spyOn(proto, 'sync').mockImplementation(function (this: FileHandle) {
      if (onCard(this)) log.push('sync');
      return realSync.apply(this);
    });
    const events: JobEvent[] = [];
    let w;
    try {
      w = await run((ctx) => writeByRanges(image, DATA, path, ctx), events);
    } finally {
      write.mockRestore();
      sync.mockRestore();
    }
    // The first MiB is made invalid first, its image bytes written after everything else and a sync.
    expect(log[0]).toBe('write 0 zeros');
    const table = log.lastIndexOf('write 0 data');
    const rest = log.flatMap((l, k) => (/^write \d+ data$/.test(l) && l !== 'write 0 data' ? [k] : []));
    expect(rest.length).toBeGreaterThan(0);
    expect(Math.max(...rest)).toBeLessThan(table);
    expect(log.slice(Math.max(...rest), table)).toContain('sync');
    const out = await readFile(path);
    const img = readFileSync(image);
    for (const d of DATA) expect(sha(out.subarray(d.start, d.end))).toBe(sha(img.subarray(d.start, d.end)));
    expect(out.subarray(targetBytes - 33 * 512).every((b) => b === 0)).toBe(true);
    expect(out.subarray(targetBytes - 33 * 512 - 512, targetBytes - 33 * 512).some((b) => b !== 0)).toBe(
      true,
    );
    expect(w.mappedBytes).toBe(DATA.reduce((n, d) => n + d.end - d.start, 0));
    expect(w.writtenBytes).toBe(w.mappedBytes);
    expect(w.invalidatedBytes).toBe(MiB + 33 * 512);
    const last = events.filter((e) => e.type === 'progress').at(-1);
    expect(last).toMatchObject({ doneBytes: w.mappedBytes, totalBytes: w.mappedBytes });
  });
});
