// A decompressor's output read ahead of a slow consumer: every byte in order, the source read
// while the consumer waits (but never more than the limit ahead), its failure passed on, and
// destroy stopping the source.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readAhead } from '../../src-main/core/rawio/read-ahead.js';

const KiB = 1024;
const chunks = (n: number, size: number) => Array.from({ length: n }, (_, i) => Buffer.alloc(size, i % 251));

/** A source that counts what has been taken from it. */
function counted(parts: Buffer[], failAt?: number) {
  let taken = 0;
  let destroyed = false;
  const source = {
    async *[Symbol.asyncIterator]() {
      for (const [i, p] of parts.entries()) {
        if (destroyed) return;
        if (i === failAt) throw new Error('the decompressor failed');
        taken += p.length;
        yield p;
        await new Promise((r) => setImmediate(r));
      }
    },
    destroy: () => {
      destroyed = true;
    },
  };
  return { source, taken: () => taken, destroyed: () => destroyed };
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('readAhead', () => {
  it('passes every byte on, in order', async () => {
    const parts = chunks(100, 64 * KiB);
    const out: Buffer[] = [];
    for await (const c of readAhead(Readable.from(parts) as never, 1024 * KiB)) out.push(c);
    expect(Buffer.concat(out).equals(Buffer.concat(parts))).toBe(true);
  });

  it('reads ahead while the consumer is busy, up to the limit', async () => {
    const { source, taken } = counted(chunks(64, 64 * KiB));
    const ahead = readAhead(source, 1024 * KiB)[Symbol.asyncIterator]();
    await ahead.next(); // the consumer takes one chunk, then is busy
    // The source runs ahead by the limit (plus the chunk that reached it)… (however loaded the
    // machine is: waited for, not timed)
    await expect.poll(taken, { timeout: 10_000, interval: 10 }).toBeGreaterThanOrEqual(1024 * KiB);
    // …and stops there, not at its end.
    await tick(50);
    expect(taken()).toBeLessThanOrEqual(1024 * KiB + 2 * 64 * KiB);
    let n = 1;
    while (!(await ahead.next()).done) n++;
    expect(n).toBe(64);
  });

  it("passes the source's failure on after the bytes before it", async () => {
    const { source } = counted(chunks(10, KiB), 6);
    const got: number[] = [];
    await expect(
      (async () => {
        for await (const c of readAhead(source, 4 * KiB)) got.push(c.length);
      })(),
    ).rejects.toThrow('the decompressor failed');
    expect(got).toHaveLength(6);
  });

  it('destroy stops the source', async () => {
    const { source, destroyed, taken } = counted(chunks(1000, 64 * KiB));
    const ahead = readAhead(source, 256 * KiB);
    const it = ahead[Symbol.asyncIterator]();
    await it.next();
    ahead.destroy();
    await tick(20);
    expect(destroyed()).toBe(true);
    expect(taken()).toBeLessThan(1000 * 64 * KiB);
  });
});
