// Flash onto a card smaller than the image, run for real: the image's root is copied, shrunk to
// the card (resize2fs) and grown to its end in an image made for the card, written through the
// write pipeline; the image is only read; a card too small for the data is refused before writing.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { odsSd } from '../helpers/cli.js';
import { copyFixture, fixture, scratch } from '../helpers/fixtures.js';
import {
  attachAsDevice,
  bootChecksums,
  detach,
  e2fsckClean,
  makeFile,
  rootChecksums,
  sfdiskJson,
  sha256,
} from '../helpers/disk-tools.js';
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';

const MiB = 1024 * 1024;

describe('ods-sd flash onto a smaller card', () => {
  let dir: string;
  let lib: string;
  let image: string;
  let imageSum: string;

  beforeAll(() => {
    dir = scratch('flash-smaller');
    lib = join(dir, 'atlas-build');
    // 4 MiB + 512 MiB boot + 160 MiB root, about 50 MiB of it needed.
    image = copyFixture(fixture('provisioned'), dir, 'ods-atlas-golden-v1-0-0-BIG.img');
    imageSum = sha256(image);
  });

  describe('a 600 MiB card in a reader (loop device)', () => {
    let dev: string;
    beforeAll(() => {
      dev = attachAsDevice(makeFile(join(dir, 'card-600.img'), 600 * MiB, [[0, 2, 0xa5]]));
    });
    afterAll(() => detach(dev));

    it('gets the root shrunk to its end: same files, clean, the image untouched', async () => {
      expect(statSync(image).size).toBeGreaterThan(600 * MiB);
      const r = await odsSd(['flash', image, dev, '--library', lib, '--yes', '--no-eject']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json.result.cards).toEqual([
        expect.objectContaining({ card: dev, ok: true, verified: true, shrunkToFit: true }),
      ]);
      expect(r.json.result.cards[0].minBytes).toBeLessThan(600 * MiB);
      expect(r.stdout).toMatch(/root shrunk to fit/);
      const t = sfdiskJson(dev);
      const s = sfdiskJson(image);
      expect(t.partitions[0]).toMatchObject({ start: s.partitions[0]!.start, size: s.partitions[0]!.size });
      expect(t.partitions[1]!.start).toBe(s.partitions[1]!.start);
      expect(t.partitions[1]!.start + t.partitions[1]!.size).toBe((600 * MiB) / 512);
      expect(e2fsckClean(dev).code).toBe(0);
      expect(rootChecksums(dev)).toEqual(rootChecksums(image));
      expect(bootChecksums(dev, true)).toEqual(bootChecksums(image));
      expect(sha256(image)).toBe(imageSum);
      expect(readdirSync(join(lib, '.atlas-tmp'))).toEqual([]);
    });
  });

  it('refuses a card too small for the data before writing anything, saying how much is needed', async () => {
    const card = makeFile(join(dir, 'card-540.img'), 540 * MiB, [
      [0, 1, 'random'],
      [516, 2, 'random'],
    ]);
    const before = sha256(card);
    const r = await odsSd(['flash', image, card, '--library', lib, '--yes']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.json.error?.code).toBe('too-small');
    expect(r.json.error?.message).toMatch(/has 566 MB, the data needs at least \d+(\.\d)? MB/);
    expect(sha256(card)).toBe(before);
    expect(readdirSync(join(lib, '.atlas-tmp'))).toEqual([]);
  });
});

describe('ods-sd flash of a compressed shrink output onto a smaller card', () => {
  let dir: string;
  let lib: string;
  let zst: string;
  let plain: string;

  beforeAll(async () => {
    dir = scratch('flash-smaller-zst');
    lib = join(dir, 'atlas-build');
    const card = copyFixture(fixture('provisioned-booted'), dir, 'card.img');
    const r = await odsSd([
      'shrink',
      card,
      '--version',
      '3.1.0',
      '--tag',
      'FIT',
      '--compress',
      'zst',
      '--library',
      lib,
    ]);
    expect(r.code, r.stderr).toBe(0);
    // shrink --compress deletes the .img: the .img.zst (with its .img.bmap) is what is handed on.
    zst = join(lib, 'ods-atlas-clone-v3-1-0-FIT.img.zst');
    expect(
      readdirSync(lib)
        .filter((f) => f.startsWith('ods-atlas-clone'))
        .sort(),
    ).toEqual([
      'ods-atlas-clone-v3-1-0-FIT.img.bmap',
      'ods-atlas-clone-v3-1-0-FIT.img.zst',
      'ods-atlas-clone-v3-1-0-FIT.img.zst.manifest.json',
      'ods-atlas-clone-v3-1-0-FIT.img.zst.sha256',
    ]);
    plain = join(dir, 'unpacked.img');
    execFileSync('zstd', ['-d', '-q', '-o', plain, zst]);
  });

  it('a card 1 MiB smaller than the image gets its root shrunk to fit, from the .img.zst itself', async () => {
    const bytes = (Math.floor(statSync(plain).size / MiB) - 1) * MiB;
    const card = makeFile(join(dir, 'card-smaller.img'), bytes, [[0, 2, 0xa5]]);
    const zstSum = sha256(zst);
    const r = await odsSd(['flash', zst, card, '--library', lib, '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.result.cards).toEqual([
      expect.objectContaining({ card, ok: true, verified: true, shrunkToFit: true }),
    ]);
    const t = sfdiskJson(card);
    const s = sfdiskJson(plain);
    expect(t.partitions[1]!.start).toBe(s.partitions[1]!.start);
    expect(t.partitions[1]!.start + t.partitions[1]!.size).toBe(bytes / 512);
    expect(e2fsckClean(card).code).toBe(0);
    expect(rootChecksums(card)).toEqual(rootChecksums(plain));
    expect(bootChecksums(card, true)).toEqual(bootChecksums(plain));
    expect(sha256(zst)).toBe(zstSum);
    // The decompressed copy and the fitted image are gone from the work folder.
    expect(readdirSync(join(lib, '.atlas-tmp'))).toEqual([]);
  });
});
