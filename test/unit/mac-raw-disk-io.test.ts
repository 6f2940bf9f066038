// macOS raw disk nodes refuse reads and writes that are not whole sectors (EINVAL): the card
// platform's device handle aligns every one, and a write opens with O_EXLOCK as etcher-sdk does.
// /dev/rdiskN is the raw-disk-node double here (test/doubles/raw-disk-node.ts).
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { scratch } from '../helpers/fixtures.js';

const opened: number[] = [];
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const { openRawDiskNode } = await import('../doubles/raw-disk-node.js');
  return {
    ...real,
    open: (path: string, flags: number | string, mode?: number) =>
      typeof path === 'string' && path.includes('/rdisk')
        ? openRawDiskNode(path, Number(flags), opened)
        : real.open(path, flags, mode),
  };
});

const { cardPlatform } = await import('../../src-main/core/cards/platform/index.js');
const { copyCard } = await import('../../src-main/privileged/raw-disk-helper.js');
const { startJob } = await import('../../src-main/core/jobs/job.js');
const { buildCard } = await import('../helpers/used-card.js');

describe('a Mac card through its raw node', () => {
  it('the raw node refuses what is not whole sectors (the double)', async () => {
    const { openRawDiskNode } = await import('../doubles/raw-disk-node.js');
    const card = join(scratch('rdisk'), 'rdisk4');
    writeFileSync(card, Buffer.alloc(8192));
    const fh = await openRawDiskNode(card, 2);
    await expect(fh.write(Buffer.alloc(100), 0, 100, 0)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(fh.read(Buffer.alloc(512), 0, 512, 100)).rejects.toMatchObject({ code: 'EINVAL' });
    await fh.write(Buffer.alloc(1024, 1), 0, 1024, 512);
    await fh.close();
  });

  it('writes an image of odd size in odd pieces, reads back any range, and locks the card', async () => {
    const dir = scratch('rdisk');
    const card = join(dir, 'rdisk5');
    const before = randomBytes(64 * 1024);
    writeFileSync(card, before);
    const image = randomBytes(40_000 + 123); // not a multiple of 512
    const fh = await cardPlatform('darwin').openDevice(card, 'write');
    // O_RDWR | O_EXLOCK (macOS <sys/fcntl.h>: 0x20).
    expect(opened.at(-1)! & 0x23).toBe(0x22);
    // As a decompressed stream comes: pieces of any length, at any position.
    for (let at = 0; at < image.length;) {
      const n = Math.min(1 + ((at * 7919) % 5000), image.length - at);
      await fh.write(image, at, n, at);
      at += n;
    }
    const back = Buffer.alloc(1000);
    const { bytesRead } = await fh.read(back, 0, 1000, 39_500);
    expect(bytesRead).toBe(1000);
    await fh.close();
    const after = readFileSync(card);
    expect(after.subarray(0, image.length).equals(image)).toBe(true);
    // The last, partial sector is padded with what the card held there; the rest is untouched.
    expect(after.subarray(image.length).equals(before.subarray(image.length))).toBe(true);
    expect(back.equals(after.subarray(39_500, 40_500))).toBe(true);
  });

  it('the helper reads a card through it: every byte, a length that is not whole sectors, and the used blocks', async () => {
    const dir = scratch('mac-read'); // the double serves paths with "/rdisk" in them: only the card's
    const built = buildCard(dir, { name: 'card-read', rootMiB: 24, mkfs: [], fillMiB: 4 });
    const card = join(dir, 'rdisk6');
    writeFileSync(card, readFileSync(built.path));
    const whole = readFileSync(card);
    const cards = cardPlatform('darwin');
    const copy = async (length: number, used: boolean) => {
      const dest = join(dir, `copy-${length}-${used}.img`);
      writeFileSync(dest, '');
      const { open } = await import('node:fs/promises');
      const out = await open(dest, 'r+');
      const src = await cards.openDevice(card, 'read');
      const job = startJob('read', (ctx) => copyCard(src, length, out, used, ctx, '/dev/rdisk6'), {
        progressIntervalMs: 0,
      });
      try {
        return { result: await job.promise, bytes: readFileSync(dest) };
      } finally {
        await src.close();
      }
    };
    const all = await copy(whole.length, false);
    expect(all.bytes.equals(whole)).toBe(true);
    // A read of the card's first bytes that ends inside a sector (the raw node would say EINVAL).
    const odd = 3 * 1024 * 1024 + 777;
    const part = await copy(odd, false);
    expect(part.result.bytes).toBe(odd);
    expect(part.bytes.equals(whole.subarray(0, odd))).toBe(true);
    // Used blocks only: the file systems' own bytes are the card's.
    const used = await copy(whole.length, true);
    expect(used.result.mappedBytes).toBeLessThan(whole.length);
    expect(
      used.bytes
        .subarray(0, built.bootStart + 1024 * 1024)
        .equals(whole.subarray(0, built.bootStart + 1024 * 1024)),
    ).toBe(true);
  });
});
