// The partclone image made while a card is read (rawio/used-blocks/partclone-image.ts) against partclone
// itself: for ext file systems of several shapes, the stream made from our map of the used
// blocks must be byte for byte what `partclone.ext4 -c` writes for the same file system (with the
// version string of the partclone installed here), whatever pieces the reads come in, and
// partclone.chkimg and partclone.restore must accept it.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratch } from '../helpers/fixtures.js';
import { makeTree, MiB, patternFile } from '../helpers/used-card.js';
import { handleReader } from '../../src-main/core/rawio/used-blocks/byte-reader.js';
import { mapExt4 } from '../../src-main/core/rawio/used-blocks/ext4-map.js';
import {
  blocksPerChecksum,
  checkPartcloneVersion,
  PartcloneExtImage,
  partcloneCrc,
} from '../../src-main/core/rawio/used-blocks/partclone-image.js';
import { parsePartcloneHead } from '../../src-main/core/library/partclone-head.js';

let dir: string;
let tree: string;
let version: string;

beforeAll(() => {
  dir = scratch('pcstream');
  tree = join(dir, 'tree');
  makeTree(tree, 'pcstream', 6);
  patternFile(join(tree, 'big.bin'), 3 * MiB + 777, 'pc-big');
  // "Partclone : v0.3.23 (cff7…)" on stderr or stdout, depending on the build
  const v = execFileSync('partclone.ext4', ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  version = /v(\d[\w.]*)/.exec(v)![1]!;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function mkfs(name: string, bytes: number, args: string[]): string {
  const p = join(dir, `${name}.fs`);
  writeFileSync(p, '');
  execFileSync('truncate', ['-s', String(bytes), p]);
  execFileSync('mkfs.ext4', ['-q', '-F', '-E', 'root_owner=0:0', ...args, '-d', tree, p], { stdio: 'pipe' });
  return p;
}

function partcloneImage(fs: string): Buffer {
  const out = `${fs}.pc`;
  rmSync(out, { force: true });
  execFileSync('partclone.ext4', ['-c', '-s', fs, '-o', out], { stdio: 'pipe' });
  return readFileSync(out);
}

/** Our stream of `fs`, read in `piece`-byte reads over the used ranges widened to `align`. */
async function ourImage(fs: string, piece: number, align: number): Promise<Buffer> {
  const fh = await open(fs, 'r');
  try {
    const size = (await fh.stat()).size;
    const map = await mapExt4(handleReader(fh, size));
    const img = new PartcloneExtImage(map.ext!, map.ranges, version);
    const out: Buffer[] = [...img.head()];
    let at = -1;
    for (const r of map.ranges) {
      const start = Math.max(at, Math.floor(r.start / align) * align);
      const end = Math.min(size, Math.ceil(r.end / align) * align);
      for (let s = start; s < end; s += piece) {
        const len = Math.min(piece, end - s);
        const buf = Buffer.alloc(len);
        await fh.read(buf, 0, len, s);
        // Copies: the views returned point into a buffer the reader may reuse.
        for (const b of img.data(s, buf)) out.push(Buffer.from(b));
      }
      at = end;
    }
    out.push(...img.end());
    return Buffer.concat(out);
  } finally {
    await fh.close();
  }
}

describe('the partclone image made from the used blocks', () => {
  const shapes: Array<[string, number, string[]]> = [
    ['1 KiB blocks, a block count that is not a multiple of 8', 64 * MiB + 3 * 1024, ['-b', '1024']],
    ['4 KiB blocks with uninitialised groups (flex_bg, 64bit, metadata_csum)', 600 * MiB, ['-b', '4096']],
    [
      '4 KiB blocks without flex_bg or metadata_csum',
      300 * MiB,
      ['-b', '4096', '-O', '^flex_bg,^metadata_csum'],
    ],
    ['2 KiB blocks, ext3-style (no extents)', 80 * MiB, ['-b', '2048', '-O', '^extent,^64bit']],
  ];
  for (const [what, bytes, args] of shapes) {
    it(`is what partclone.ext4 writes: ${what}`, { timeout: 300_000 }, async () => {
      const fs = mkfs(what.replace(/\W+/g, '-').slice(0, 40), bytes, args);
      const theirs = partcloneImage(fs);
      const ours = await ourImage(fs, MiB, 64 * 1024);
      expect(ours.length).toBe(theirs.length);
      expect(ours.equals(theirs)).toBe(true);
      // Reads in other pieces give the same bytes.
      expect((await ourImage(fs, 12 * 1024, 4096)).equals(theirs)).toBe(true);
    });
  }

  it(
    'is accepted by partclone.chkimg and restores to the same file system',
    { timeout: 300_000 },
    async () => {
      const fs = mkfs('restore', 96 * MiB, ['-b', '4096']);
      const image = join(dir, 'ours.pc');
      writeFileSync(image, await ourImage(fs, 256 * 1024, 65536));
      execFileSync('partclone.chkimg', ['-s', image], { stdio: 'pipe' });
      const restored = join(dir, 'restored.fs');
      writeFileSync(restored, '');
      execFileSync('truncate', ['-s', String(96 * MiB), restored]);
      execFileSync('partclone.ext4', ['-r', '-s', image, '-O', restored], { stdio: 'pipe' });
      execFileSync('e2fsck', ['-fn', restored], { stdio: 'pipe' });
      const cat = (f: string) =>
        execFileSync('debugfs', ['-R', 'cat /big.bin', f], {
          stdio: ['ignore', 'pipe', 'ignore'],
          maxBuffer: 8 * MiB,
        });
      expect(cat(restored).equals(cat(fs))).toBe(true);
      expect(cat(restored).length).toBe(3 * MiB + 777);
    },
  );

  it('has a header our own reader parses', async () => {
    const fs = mkfs('head', 64 * MiB, ['-b', '4096']);
    const fh = await open(fs, 'r');
    const map = await mapExt4(handleReader(fh, 64 * MiB)).finally(() => fh.close());
    const head = Buffer.concat(new PartcloneExtImage(map.ext!, map.ranges, version).head());
    expect(parsePartcloneHead(head, 'the stream')).toMatchObject({
      fs: 'EXTFS',
      format: '0002',
      blockSize: 4096,
      totalBlocks: 16384,
      usedBlocks: map.usedBytes / 4096,
      deviceBytes: 64 * MiB,
    });
  });

  it('refuses used blocks that were skipped, or handed over out of order', () => {
    const ext = { blockSize: 4096, totalBlocks: 64, usedBySuper: 3 };
    const used = [
      { start: 0, end: 4096 },
      { start: 8 * 4096, end: 10 * 4096 },
    ];
    const skip = new PartcloneExtImage(ext, used, '0.3.23');
    skip.data(0, Buffer.alloc(4096));
    expect(() => skip.data(9 * 4096, Buffer.alloc(4096))).toThrow(/used block 8 .* never read/);

    const back = new PartcloneExtImage(ext, used, '0.3.23');
    back.data(0, Buffer.alloc(8192));
    expect(() => back.data(4096, Buffer.alloc(4096))).toThrow(/come after/);

    const short = new PartcloneExtImage(ext, used, '0.3.23');
    short.data(0, Buffer.alloc(9 * 4096));
    expect(() => short.end()).toThrow(/used block 9 .* never read/);
  });

  it('checksums every 1 MiB of blocks with partclone’s CRC, and the rest at the end', () => {
    expect(blocksPerChecksum(4096)).toBe(256);
    expect(blocksPerChecksum(1024)).toBe(1024);
    expect(blocksPerChecksum(2 * MiB)).toBe(1);
    // The register without the final inversion: zlib's CRC-32 of "123456789" is 0xcbf43926.
    expect(partcloneCrc(0xffffffff, Buffer.from('123456789'))).toBe(~0xcbf43926 >>> 0);
    const ext = { blockSize: 4096, totalBlocks: 300, usedBySuper: 300 };
    const img = new PartcloneExtImage(ext, [{ start: 0, end: 300 * 4096 }], '0.3.23');
    const parts = img.data(0, Buffer.alloc(300 * 4096, 7));
    const crcs = parts.filter((p) => p.length === 4);
    expect(crcs).toHaveLength(1);
    expect(crcs[0]!.readUInt32LE()).toBe(partcloneCrc(0xffffffff, Buffer.alloc(256 * 4096, 7)));
    const last = img.end();
    expect(last[0]!.readUInt32LE()).toBe(partcloneCrc(0xffffffff, Buffer.alloc(44 * 4096, 7)));
  });

  it('takes only a version string partclone prints', () => {
    expect(checkPartcloneVersion('0.3.23')).toBe('0.3.23');
    for (const bad of ['', '0.3.23; rm -rf /', 'x'.repeat(20), '../0.3']) {
      expect(() => checkPartcloneVersion(bad)).toThrow(/not a partclone version/);
    }
  });
});
