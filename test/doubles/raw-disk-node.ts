/**
 * macOS's raw disk node (/dev/rdiskN) for tests: a file handle that refuses, as the raw node does,
 * every read or write whose position or length is not a whole number of 512-byte sectors (EINVAL),
 * and records the flags it was opened with. The rule is the one etcher-sdk's block-device.ts aligns
 * for on macOS (test/doubles/README.md).
 */
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

export const RAW_SECTOR = 512;

function einval(what: string, position: number, length: number): NodeJS.ErrnoException {
  const e = new Error(`EINVAL: invalid argument, ${what} (position ${position}, length ${length})`);
  return Object.assign(e, { code: 'EINVAL', errno: -22, syscall: what });
}

/** Opens `path` like a raw disk node: `opened` gets the flags, unaligned I/O fails with EINVAL. */
export async function openRawDiskNode(
  path: string,
  flags: number,
  opened: number[] = [],
): Promise<FileHandle> {
  opened.push(flags);
  const fh = await fsp.open(path, flags & ~0x20); // O_EXLOCK means nothing to Linux
  const check = (what: string, length: number, position: unknown) => {
    const p = typeof position === 'number' ? position : -1;
    if (p < 0 || p % RAW_SECTOR !== 0 || length % RAW_SECTOR !== 0) throw einval(what, p, length);
  };
  return new Proxy(fh, {
    get(target, key) {
      if (key === 'read' || key === 'write') {
        return async (buffer: Buffer, offset = 0, length = buffer.length - offset, position?: number) => {
          check(key, length, position);
          return key === 'read'
            ? target.read(buffer, offset, length, position)
            : target.write(buffer, offset, length, position);
        };
      }
      const v = Reflect.get(target, key, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
