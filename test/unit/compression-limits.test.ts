// The decoders' memory caps and a stock Mac, through the interfaces every write, insert, inspect
// and card check uses: a dictionary or window over the cap is refused with its size before
// anything is written; with a stock Mac's PATH (no xz, zstd, pigz) sizes are read and images
// decoded all the same; where Linux still runs the xz tool, it runs with a memory limit.
import { describe, expect, it } from 'vitest';
import { scratch } from '../helpers/fixtures.js';
import {
  compressWith,
  sampleData,
  sha256,
  xzWithHugeDict,
  zstWithHugeWindow,
} from '../helpers/compressed-files.js';
import { withMacosPath } from '../helpers/macos-path.js';
import { decompress, uncompressedSize } from '../../src-main/core/images/compression.js';
import { openSource } from '../../src-main/core/write/open-source.js';
import { flashCheck } from '../../src-main/app/card-checks.js';
import { AtlasError } from '../../src-main/core/errors.js';

async function rejection(p: Promise<unknown>): Promise<AtlasError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AtlasError);
  return e as AtlasError;
}

describe('decoder memory caps, and a stock Mac', () => {
  const data = sampleData();
  const dir = scratch('codec-limits');

  it('where Linux still decodes with the xz tool, it runs with a memory limit', async () => {
    const path = xzWithHugeDict(dir, data);
    const d = decompress(path, 'xz');
    d.stream.resume();
    const e = await rejection(d.done);
    expect(e.code).toBe('unsupported');
    expect(e.message).toMatch(
      /needs more memory to be decompressed than the 256MiB allowed \(xz: .*Memory usage limit/s,
    );
  });

  it('a write of a --long=31 .zst is refused while opening the image, saying its window', async () => {
    const path = zstWithHugeWindow(dir, data, 'flash-me.img.zst');
    const e = await rejection(openSource(path));
    expect(e.code).toBe('unsupported');
    expect(e.message).toMatch(/flash-me\.img\.zst was compressed with a 2 GiB zstd window/);
    expect(e.message).not.toMatch(/corrupt/);
  });

  it('with a stock Mac PATH, the sizes are read and the images decoded without any tool', async () => {
    const xz = compressWith(dir, 'mac.img.xz', data, 'xz', ['-c', '-6']);
    const zst = compressWith(dir, 'mac.img.zst', data, 'zstd', ['-c', '-q', `--stream-size=${data.length}`]);
    const gz = compressWith(dir, 'mac.img.gz', data, 'gzip', ['-c']);
    await withMacosPath(async () => {
      expect(await uncompressedSize(xz, 'xz')).toBe(data.length);
      expect(await uncompressedSize(zst, 'zst')).toBe(data.length);
      // The card list's image check of a compressed image.
      expect(await flashCheck(xz, [])).toEqual([]);
      for (const [path, kind] of [
        [xz, 'xz'],
        [zst, 'zst'],
        [gz, 'gz'],
      ] as const) {
        const d = decompress(path, kind);
        const parts: Buffer[] = [];
        for await (const c of d.stream as AsyncIterable<Buffer>) parts.push(c);
        await d.done;
        expect(sha256(Buffer.concat(parts))).toBe(sha256(data));
      }
    });
  });
});
