// Compressed images decoded in this process (no xz, zstd or pigz needed, as on a stock Mac), with
// the decoders' memory capped: the file's structure is read first and a dictionary or window over
// the cap is refused with its size, before anything is decoded or written.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { scratch } from '../helpers/fixtures.js';
import {
  compressWith,
  sampleData,
  sha256,
  xzWithHugeDict,
  zstWithHugeWindow,
} from '../helpers/compressed-files.js';
import { decoderEngine, uncompressedSize } from '../../src-main/core/images/compression.js';
import { decompressInProcess } from '../../src-main/core/images/in-process-decoders.js';
import { AtlasError } from '../../src-main/core/errors.js';

async function decodeAll(path: string, kind: 'xz' | 'gz' | 'zst', expectBytes?: number): Promise<Buffer> {
  const d = decompressInProcess(path, kind, expectBytes);
  const parts: Buffer[] = [];
  for await (const c of d.stream as AsyncIterable<Buffer>) parts.push(c);
  await d.done;
  return Buffer.concat(parts);
}

async function rejection(p: Promise<unknown>): Promise<AtlasError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AtlasError);
  return e as AtlasError;
}

describe('decoding in this process', () => {
  const data = sampleData();
  const dir = scratch('codecs');

  it.each([
    ['xz', 'a.img.xz', 'xz', ['-c', '-6']],
    ['xz', 'blocks.img.xz', 'xz', ['-c', '-1', '-T2', '--block-size=1MiB']],
    ['gz', 'a.img.gz', 'gzip', ['-c']],
    ['zst', 'a.img.zst', 'zstd', ['-c', '-q', '-9']],
  ] as const)('decodes %s (%s) to the original bytes', async (kind, name, cmd, args) => {
    const path = compressWith(dir, name, data, cmd, [...args]);
    const out = await decodeAll(path, kind);
    expect(out.length).toBe(data.length);
    expect(sha256(out)).toBe(sha256(data));
  });

  it('reads the recorded size of .xz (all blocks, all streams) and .zst without a tool', async () => {
    const one = compressWith(dir, 's.img.xz', data, 'xz', ['-c', '-1', '-T2', '--block-size=1MiB']);
    expect(await uncompressedSize(one, 'xz')).toBe(data.length);
    const two = join(dir, 'two-streams.img.xz');
    writeFileSync(two, Buffer.concat([readFileSync(one), Buffer.alloc(8), readFileSync(one)]));
    expect(await uncompressedSize(two, 'xz')).toBe(2 * data.length);
    const zst = compressWith(dir, 'sized.img.zst', data, 'zstd', [
      '-c',
      '-q',
      `--stream-size=${data.length}`,
    ]);
    expect(await uncompressedSize(zst, 'zst')).toBe(data.length);
    const piped = compressWith(dir, 'piped.img.zst', data, 'zstd', ['-c', '-q']);
    expect(await uncompressedSize(piped, 'zst')).toBeUndefined();
  });

  it('decodes every stream of an .xz, and a size other than the recorded one is an error', async () => {
    const one = compressWith(dir, 'st.img.xz', data, 'xz', ['-c', '-1']);
    const two = join(dir, 'two.img.xz');
    writeFileSync(two, Buffer.concat([readFileSync(one), readFileSync(one)]));
    expect(sha256(await decodeAll(two, 'xz', 2 * data.length))).toBe(sha256(Buffer.concat([data, data])));
    const e = await rejection(decodeAll(one, 'xz', data.length + 512));
    expect(e.code).toBe('bad-input');
    expect(e.message).toContain(`decodes to ${data.length} bytes where it records ${data.length + 512}`);
  });

  it('a damaged or truncated file is refused with what is wrong', async () => {
    const zst = compressWith(dir, 'cut.img.zst', data, 'zstd', ['-c', '-q']);
    writeFileSync(zst, readFileSync(zst).subarray(0, 5000));
    expect((await rejection(decodeAll(zst, 'zst'))).message).toMatch(
      /could not be decompressed: it ends early/,
    );
    const xz = compressWith(dir, 'cut.img.xz', data, 'xz', ['-c', '-1']);
    const cut = readFileSync(xz);
    writeFileSync(xz, cut.subarray(0, cut.length - 40));
    expect((await rejection(uncompressedSize(xz, 'xz'))).message).toMatch(/is not a valid \.xz file/);
  });

  it('an .xz with a 1.5 GiB dictionary is refused by its size, before decoding', async () => {
    const path = xzWithHugeDict(dir, data);
    const e = await rejection(uncompressedSize(path, 'xz'));
    expect(e.code).toBe('unsupported');
    expect(e.message).toBe(
      'huge-dict.img.xz needs an xz dictionary of 1.5 GiB to be decompressed; images are decompressed with at most 64 MiB (what xz -9 uses)',
    );
    expect(e.hint).toMatch(/^nothing was written/);
    // The decoder itself holds at most 64 MiB: it refuses too.
    const rss = process.memoryUsage().rss;
    expect((await rejection(decodeAll(path, 'xz'))).code).toBe('unsupported');
    expect(process.memoryUsage().rss - rss).toBeLessThan(200 * 1024 * 1024);
  });

  it('a .zst with a 2 GiB window (--long=31) is refused with its window, before decoding', async () => {
    const path = zstWithHugeWindow(dir, data);
    const e = await rejection(uncompressedSize(path, 'zst'));
    expect(e.code).toBe('unsupported');
    expect(e.message).toBe(
      'long31.img.zst was compressed with a 2 GiB zstd window (zstd --long or --ultra); images are decompressed with at most a 256 MiB window',
    );
    expect((await rejection(decodeAll(path, 'zst'))).message).toMatch(/2 GiB zstd window/);
  });

  it('a second frame with a 2 GiB window is stopped before the decoder reads it', async () => {
    const good = compressWith(dir, 'good.img.zst', data, 'zstd', ['-c', '-q']);
    const bad = zstWithHugeWindow(dir, data, 'bad.zst');
    const both = join(dir, 'second-frame.img.zst');
    writeFileSync(both, Buffer.concat([readFileSync(good), readFileSync(bad)]));
    const d = decompressInProcess(both, 'zst');
    let got = 0;
    const read = (async () => {
      for await (const c of d.stream as AsyncIterable<Buffer>) got += c.length;
    })();
    const e = await rejection(read);
    expect(e.message).toMatch(/2 GiB zstd window/);
    expect(got).toBeLessThanOrEqual(data.length);
    expect((await rejection(d.done)).code).toBe('unsupported');
  });

  it('an .xz decode stopped halfway frees the decoder for the next one', async () => {
    const path = compressWith(dir, 'stop.img.xz', data, 'xz', ['-c', '-1']);
    const first = decompressInProcess(path, 'xz');
    for await (const chunk of first.stream as AsyncIterable<Buffer>) {
      expect(chunk.length).toBeGreaterThan(0);
      break;
    }
    first.kill();
    await first.done;
    expect(sha256(await decodeAll(path, 'xz'))).toBe(sha256(data));
  });

  it('decodes in this process on a Mac, with the tool on Linux where it is installed', () => {
    expect(decoderEngine('xz', 'darwin')).toBe('in-process');
    expect(decoderEngine('zst', 'darwin')).toBe('in-process');
    expect(decoderEngine('xz', 'linux')).toBe('tool'); // installed on this test box
  });

  it('the decoded stream is a plain byte stream', async () => {
    const path = compressWith(dir, 'txt.gz', Buffer.from('hello\n'), 'gzip', ['-c']);
    expect(await text(decompressInProcess(path, 'gz').stream)).toBe('hello\n');
  });
});
