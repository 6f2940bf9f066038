// The zero-block test that sparse copies and used-block reads rely on: any length, any position of
// a single non-zero byte.
import { describe, expect, it } from 'vitest';
import { isZero } from '../../src-main/core/rawio/used-blocks/zero-block.js';

const MiB = 1024 * 1024;

describe('isZero', () => {
  it('is true for zeros of any length, also past one MiB and not a multiple of 8', () => {
    for (const n of [0, 1, 7, 4096, MiB, MiB + 5, 3 * MiB + 3])
      expect(isZero(Buffer.alloc(n)), String(n)).toBe(true);
  });

  it('is false when any one byte is not zero', () => {
    for (const n of [1, 9, MiB, 3 * MiB + 3]) {
      for (const at of [0, Math.floor(n / 2), n - 1]) {
        const b = Buffer.alloc(n);
        b[at] = 0x80;
        expect(isZero(b), `${n} bytes, byte ${at}`).toBe(false);
      }
    }
  });

  it('reads only its own bytes (a view into a larger buffer)', () => {
    const big = Buffer.alloc(2 * MiB);
    big[MiB + 10] = 1;
    expect(isZero(big.subarray(0, MiB))).toBe(true);
    expect(isZero(big.subarray(MiB, MiB + 11))).toBe(false);
  });
});
