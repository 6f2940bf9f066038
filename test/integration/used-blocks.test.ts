// Used-block card reads and mapped writes, run for real as root on generated cards that look used
// (old data in every free block), judged with independent tools: e2fsck -fn, fsck.fat -n, a
// read-only mount and mtools for every file's sha256, sfdisk, and the real bmaptool.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFixture, fixture, scratch } from '../helpers/fixtures.js';
import {
  attachAsDevice,
  bootChecksums,
  detach,
  e2fsckClean,
  rootChecksums,
  sfdiskJson,
  withPartition,
} from '../helpers/disk-tools.js';
import {
  ageCard,
  allocatedBytes,
  buildCard,
  freeFileBlocks,
  MiB,
  patternFile,
  rangeSha256,
  usedBytesByTools,
  writePattern,
  type CardSpec,
} from '../helpers/used-card.js';
import { startJob, type JobContext } from '../../src-main/core/jobs/job.js';
import {
  readUsedToSparseFile,
  type ReadUsedResult,
} from '../../src-main/core/rawio/used-blocks/read-used.js';
import { writeBmapFile } from '../../src-main/core/rawio/bmap.js';
import { writeByRanges } from '../helpers/write-source.js';

function run<T>(fn: (ctx: JobContext) => Promise<T>): Promise<T> {
  return startJob('used-blocks test', fn).promise;
}

function fsckFat(img: string, n: number): { code: number; output: string } {
  return withPartition(img, n, (dev) => {
    const r = spawnSync('fsck.fat', ['-n', dev], { encoding: 'utf8' });
    return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
  });
}

/** A copy of the card, as the card reader would see it: same table, same bytes where it matters. */
function expectCompleteCopy(card: string, copy: string): void {
  expect(statSync(copy).size).toBe(statSync(card).size);
  expect(sfdiskJson(copy).partitions).toEqual(
    sfdiskJson(card).partitions.map((p) => ({ ...p, node: p.node.replace(card, copy) })),
  );
  const fsck = e2fsckClean(copy);
  expect(fsck.code, fsck.output).toBe(0);
  const fat = fsckFat(copy, 1);
  expect(fat.code, fat.output).toBe(0);
  expect(rootChecksums(copy)).toEqual(rootChecksums(card));
  expect(bootChecksums(copy)).toEqual(bootChecksums(card));
  const p1 = sfdiskJson(card).partitions[0]!.start * 512;
  expect(rangeSha256(copy, 0, p1), 'the bytes before partition 1').toBe(rangeSha256(card, 0, p1));
}

const measured: string[] = [];
let dir: string;

beforeAll(() => {
  dir = scratch('used-blocks');
});

afterAll(() => {
  // Several GiB of (sparse) cards: do not leave them behind.
  rmSync(dir, { recursive: true, force: true });
  // The numbers behind the speed-up: bytes read from the card against bytes in use.
  console.log(['card | size | in use (tools) | read (mapped) | copy on disk', ...measured].join('\n'));
});

const mb = (n: number): string => `${(n / MiB).toFixed(1)} MiB`;

async function readAndCheck(name: string, card: string): Promise<{ copy: string; r: ReadUsedResult }> {
  expect(e2fsckClean(card).code, 'the generated card itself is clean').toBe(0);
  const copy = join(dir, `${name}.copy.img`);
  const r = await run((ctx) => readUsedToSparseFile(card, copy, ctx));
  expect(r.fallbacks).toEqual([]);
  expect(r.bytes).toBe(statSync(card).size);
  expectCompleteCopy(card, copy);
  const used = usedBytesByTools(card);
  const bound = 1.1 * used + 64 * MiB;
  expect(allocatedBytes(copy)).toBeLessThanOrEqual(bound);
  expect(r.mappedBytes).toBeLessThanOrEqual(bound);
  measured.push(
    `${name} | ${mb(r.bytes)} | ${mb(used)} | ${mb(r.mappedBytes)} | ${mb(allocatedBytes(copy))}`,
  );
  return { copy, r };
}

const fixtureCards: Array<{ name: string; path: () => string }> = [
  {
    name: 'provisioned, MBR, 160 MiB root, 24 MiB of files',
    path: () => fixture('provisioned', { fillMiB: 24 }),
  },
  {
    name: 'base, GPT, 600 MiB root, almost empty',
    path: () => fixture('base', { rootMiB: 600, fillMiB: 0, label: 'gpt' }),
  },
  {
    name: 'provisioned-booted, 300 MiB root, three quarters full',
    path: () => fixture('provisioned-booted', { rootMiB: 300, fillMiB: 220 }),
  },
];

const builtCards: CardSpec[] = [
  { name: 'no-flex-bg-4k-half-full', rootMiB: 256, fillMiB: 110, mkfs: ['-b', '4096', '-O', '^flex_bg'] },
  {
    name: 'meta-bg-1k-gpt',
    label: 'gpt',
    rootMiB: 256,
    fillMiB: 40,
    mkfs: ['-b', '1024', '-O', 'meta_bg,^resize_inode'],
  },
  {
    name: '32bit-gdt-csum-fat16-nearly-full',
    bootFat: 16,
    rootMiB: 256,
    fillMiB: 190,
    mkfs: ['-b', '4096', '-O', '^64bit,^metadata_csum,uninit_bg'],
  },
  {
    name: 'grown-64-to-384-then-used',
    rootMiB: 384,
    grownFromMiB: 64,
    fillMiB: 30,
    useMounted: true,
    mkfs: ['-b', '4096'],
  },
  { name: 'ext3-1k-used', rootMiB: 200, fillMiB: 60, useMounted: true, mkfs: ['-t', 'ext3', '-b', '1024'] },
  { name: '4k-with-trailing-space', rootMiB: 200, fillMiB: 20, trailingMiB: 16, mkfs: ['-b', '4096'] },
];

describe('readUsedToSparseFile: the copy is a complete card, read from the used blocks only', () => {
  for (const c of fixtureCards) {
    it(`fixture: ${c.name}`, async () => {
      const card = copyFixture(c.path(), dir, `${c.name.replace(/\W+/g, '-')}.img`);
      ageCard(card, c.name);
      await readAndCheck(c.name.replace(/\W+/g, '-'), card);
    });
  }

  for (const spec of builtCards) {
    it(`built over old data: ${spec.name} (mkfs.ext4 ${spec.mkfs.join(' ')})`, async () => {
      const card = buildCard(dir, spec);
      const { r } = await readAndCheck(spec.name, card.path);
      if (spec.trailingMiB) {
        expect(r.notes.join()).toMatch(
          new RegExp(`${spec.trailingMiB * MiB} bytes after the last partition`),
        );
      }
      if (spec.label === 'gpt') {
        const copy = join(dir, `${spec.name}.copy.img`);
        expect(spawnSync('sfdisk', ['--verify', copy], { encoding: 'utf8' }).status, 'both GPT copies').toBe(
          0,
        );
      }
    });
  }
});

describe('readUsedToSparseFile: fallbacks and edges', () => {
  let aged: string;
  beforeAll(() => {
    aged = copyFixture(fixture('provisioned', { fillMiB: 24 }), dir, 'aged-source.img');
    ageCard(aged, 'aged-source');
  });

  it('a zeroed superblock: the root partition is copied in full, and the copy says so', async () => {
    const card = join(dir, 'zeroed-sb.img');
    execFileSync('cp', ['--sparse=always', aged, card]);
    const p2 = sfdiskJson(card).partitions[1]!;
    const fh = await open(card, 'r+');
    await fh.write(Buffer.alloc(1024), 0, 1024, p2.start * 512 + 1024);
    await fh.close();
    const copy = join(dir, 'zeroed-sb.copy.img');
    const r = await run((ctx) => readUsedToSparseFile(card, copy, ctx));
    expect(r.fallbacks).toEqual([
      'partition 2 (type 0x83): no ext2/3/4 or FAT file system was recognised; copied in full',
    ]);
    expect(r.map.partitions.map((p) => p.fs)).toEqual(['fat32', 'unknown']);
    expect(rangeSha256(copy, p2.start * 512, p2.size * 512)).toBe(
      rangeSha256(card, p2.start * 512, p2.size * 512),
    );
    expect(bootChecksums(copy)).toEqual(bootChecksums(card));
    expect(r.mappedBytes).toBeGreaterThan(p2.size * 512);
  });

  it('a file whose blocks the bitmap marks free (checksums and counts valid): copied in full, the file intact', async () => {
    const card = join(dir, 'freed-file.img');
    execFileSync('cp', ['--sparse=always', aged, card]);
    const file = '/var/cache/atlas-fill/blob-2.bin';
    freeFileBlocks(card, file, 8);
    expect(e2fsckClean(card).output).toMatch(/Block bitmap differences/);
    const copy = join(dir, 'freed-file.copy.img');
    const r = await run((ctx) => readUsedToSparseFile(card, copy, ctx));
    const sums = rootChecksums(copy);
    expect(sums.get(file.slice(1))).toBe(rootChecksums(card).get(file.slice(1)));
    expect(sums).toEqual(rootChecksums(card));
    expect(r.fallbacks).toHaveLength(1);
    expect(r.fallbacks[0]).toMatch(
      /^partition 2 \(type 0x83\): the block bitmaps mark 8 blocks of inode \d+ as free; copied in full$/,
    );
  });

  it('the no-ext4 card: the FAT in partition 2 is mapped as FAT, not copied in full', async () => {
    const copy = join(dir, 'no-ext4.copy.img');
    const card = fixture('no-ext4');
    const r = await run((ctx) => readUsedToSparseFile(card, copy, ctx));
    expect(r.fallbacks).toEqual([]);
    expect(r.map.partitions.map((p) => p.fs)).toEqual(['fat32', 'fat32']);
    expect(fsckFat(copy, 2).code).toBe(0);
    expect(r.mappedBytes).toBeLessThan(statSync(card).size / 10);
  });

  it('reads a block device (a loop device standing in for a card reader), sized by the system', async () => {
    const dev = attachAsDevice(aged);
    try {
      const copy = join(dir, 'from-device.copy.img');
      const r = await run((ctx) => readUsedToSparseFile(dev, copy, ctx));
      expect(r.bytes).toBe(statSync(aged).size);
      expect(e2fsckClean(copy).code).toBe(0);
      expect(rootChecksums(copy)).toEqual(rootChecksums(aged));
    } finally {
      detach(dev);
    }
  });

  it('cancelling removes the half-written copy', async () => {
    const copy = join(dir, 'cancelled.copy.img');
    const job = startJob('read', (ctx) => readUsedToSparseFile(aged, copy, ctx));
    job.on('event', (e) => {
      if (e.type === 'step' && e.step.id === 'read-used') job.cancel();
    });
    await expect(job.promise).rejects.toMatchObject({ code: 'cancelled' });
    expect(existsSync(copy)).toBe(false);
  });

  it('never overwrites an existing file', async () => {
    const copy = join(dir, 'existing.img');
    writeFileSync(copy, 'keep me');
    await expect(run((ctx) => readUsedToSparseFile(aged, copy, ctx))).rejects.toMatchObject({
      code: 'exists',
    });
    expect(readFileSync(copy, 'utf8')).toBe('keep me');
  });
});

describe('used-block writes: only mapped ranges go onto a reused card', () => {
  let source: string;
  let copy: string;
  let r: ReadUsedResult;
  beforeAll(async () => {
    const card = buildCard(dir, {
      name: 'write-source',
      label: 'gpt',
      rootMiB: 320,
      grownFromMiB: 96,
      fillMiB: 40,
      useMounted: true,
      mkfs: ['-b', '4096'],
    });
    source = card.path;
    copy = join(dir, 'write-source.copy.img');
    r = await run((ctx) => readUsedToSparseFile(source, copy, ctx));
    expect(r.fallbacks).toEqual([]);
  });

  function reusedCard(name: string, bytes: number): string {
    const p = join(dir, name);
    patternFile(p, bytes, `${name}-previous-life`);
    return p;
  }

  it('a write by the read ranges: a complete card although free blocks keep old data', async () => {
    const bytes = statSync(copy).size;
    const target = reusedCard('reused-same-size.img', bytes);
    const w = await run((ctx) => writeByRanges(copy, r.ranges, target, ctx));
    expect(w.mappedBytes).toBe(r.mappedBytes);
    expect(w.writtenBytes).toBeLessThanOrEqual(r.mappedBytes + 33 * 512);
    expectCompleteCopy(source, target);
    expect(spawnSync('sfdisk', ['--verify', target]).status).toBe(0);
  });

  it('a .bmap written from the copy is used by the real bmaptool to make a complete card', async () => {
    const bmap = join(dir, 'write-source.bmap');
    const made = await run((ctx) => writeBmapFile(copy, bmap, ctx));
    expect(made.map?.fallbacks).toEqual([]);
    expect(made.bmap.mappedBlocksCount * 4096).toBeLessThanOrEqual(r.mappedBytes);
    const target = reusedCard('reused-bmaptool.img', statSync(copy).size);
    const b = spawnSync('bmaptool', ['copy', '--bmap', bmap, copy, target], { encoding: 'utf8' });
    expect(b.status, b.stderr).toBe(0);
    expectCompleteCopy(source, target);
  });

  it('a larger reused card that held a GPT: its stale backup GPT at the very end is zeroed', async () => {
    const mbrCard = copyFixture(fixture('provisioned', { fillMiB: 24 }), dir, 'mbr-source.img');
    const mbrCopy = join(dir, 'mbr-source.copy.img');
    const read = await run((ctx) => readUsedToSparseFile(mbrCard, mbrCopy, ctx));
    const bytes = statSync(mbrCopy).size + 64 * MiB;
    const target = reusedCard('reused-was-gpt.img', bytes);
    execFileSync('sfdisk', ['-q', target], {
      input: 'label: gpt\nstart=2048, size=4096\n',
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    expect(
      readFileSync(target)
        .subarray(bytes - 512, bytes - 504)
        .toString('latin1'),
    ).toBe('EFI PART');
    await run((ctx) => writeByRanges(mbrCopy, read.ranges, target, ctx));
    expect(sfdiskJson(target).label).toBe('dos');
    expect(rangeSha256(target, bytes - 33 * 512, 33 * 512)).toBe(rangeSha256('/dev/zero', 0, 33 * 512));
    expect(e2fsckClean(target).code).toBe(0);
    expect(rootChecksums(target)).toEqual(rootChecksums(mbrCard));
  });

  it('a damaged image is caught by the range checksums of its .bmap', async () => {
    const bmap = join(dir, 'damaged.bmap');
    const img = join(dir, 'damaged.img');
    execFileSync('cp', ['--sparse=always', copy, img]);
    const made = await run((ctx) => writeBmapFile(img, bmap, ctx));
    const victim = made.bmap.ranges.at(-2)!;
    writePattern(img, victim.first * 4096 + 17, 1, 'bit-rot');
    const target = reusedCard('reused-damaged.img', statSync(img).size);
    const b = spawnSync('bmaptool', ['copy', '--bmap', bmap, img, target], { encoding: 'utf8' });
    expect(b.status).not.toBe(0);
    expect(b.stderr).toMatch(/checksum mismatch for blocks range/);
  });
});
