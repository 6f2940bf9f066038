// Compressed files for the decoder tests, made by the real xz, gzip and zstd on this test box, and
// the two hostile ones of a downloaded image: an .xz whose blocks ask for a 1.5 GiB dictionary and
// a .zst whose frame asks for a 2 GiB window (zstd --long=31). Encoding those for real would take
// gigabytes, so a normal file's header is changed: the LZMA2 dictionary byte (with the block
// header's CRC32 fixed), the zstd window descriptor (frame headers carry no checksum).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

/** About 1.7 MB that compress but are not trivial: counters, text and zeros. */
export function sampleData(): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < 40000; i++) parts.push(Buffer.from(`line ${i} ${(i * 2654435761) % 1000003}\n`));
  parts.push(Buffer.alloc(1024 * 1024));
  return Buffer.concat(parts);
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Writes `data` as X.raw and compresses it with `cmd args` (stdin to stdout) into X.ext. */
export function compressWith(dir: string, name: string, data: Buffer, cmd: string, args: string[]): string {
  const out = join(dir, name);
  writeFileSync(out, execFileSync(cmd, args, { input: data, maxBuffer: 64 * 1024 * 1024 }));
  return out;
}

/** A variable-length integer of the .xz format at `at`: its value and the next offset. */
function vli(b: Buffer, at: number): [number, number] {
  let n = 0;
  for (let i = 0; ; i++) {
    const v = b[at + i]!;
    n += (v & 0x7f) * 2 ** (7 * i);
    if ((v & 0x80) === 0) return [n, at + i + 1];
  }
}

/** An .xz whose every block names a 1.5 GiB LZMA2 dictionary (code 37). */
export function xzWithHugeDict(dir: string, data: Buffer): string {
  // Threaded xz writes several blocks, each header with its compressed and uncompressed sizes.
  const path = compressWith(dir, 'huge-dict.img.xz', data, 'xz', ['-c', '-1', '-T2', '--block-size=1MiB']);
  const b = readFileSync(path);
  let patched = 0;
  // Blocks follow the 12-byte stream header; a zero byte where a block header would be is the index.
  for (let at = 12; b[at] !== 0;) {
    const size = (b[at]! + 1) * 4;
    const flags = b[at + 1]!;
    if ((flags & 0xc0) !== 0xc0) throw new Error('expected block headers with both sizes');
    const [compressed, next] = vli(b, at + 2);
    const [, filter] = vli(b, next);
    if (b[filter] !== 0x21 || b[filter + 1] !== 1) throw new Error('expected an LZMA2 filter');
    b[filter + 2] = 37;
    b.writeUInt32LE(crc32(b.subarray(at, at + size - 4)), at + size - 4);
    patched++;
    // The header, the data padded to four bytes, the CRC64 check.
    at += size + Math.ceil(compressed / 4) * 4 + 8;
  }
  if (patched < 2) throw new Error('expected several blocks');
  writeFileSync(path, b);
  return path;
}

/** A .zst (no recorded size, as from a pipe) whose window descriptor says 2 GiB (--long=31). */
export function zstWithHugeWindow(dir: string, data: Buffer, name = 'long31.img.zst'): string {
  const path = compressWith(dir, name, data, 'zstd', ['-c', '-q', '-3']);
  const b = readFileSync(path);
  if ((b[4]! & 0x20) !== 0) throw new Error('expected a frame with a window descriptor');
  b[5] = (31 - 10) << 3;
  writeFileSync(path, b);
  return path;
}
