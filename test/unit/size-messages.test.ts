// Sizes in messages are written in MB/GB as everywhere else, never as raw byte counts.
import { writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertWritableCard } from '../../src-main/core/cards/card.js';
import { writeMappedToTarget } from '../../src-main/core/rawio/bmap.js';
import { startJob } from '../../src-main/core/jobs/job.js';
import { scratch } from '../helpers/fixtures.js';

describe('size messages', () => {
  it('a card too small for what it must hold', async () => {
    const card = { path: '/dev/sdz', kind: 'device', bytes: 7_948_206_080, node: 0 } as const;
    await expect(assertWritableCard(card as never, 8_053_063_680)).rejects.toMatchObject({
      code: 'too-small',
      message: 'the card is too small: /dev/sdz has 7.9 GB, 8.1 GB are needed',
    });
  });

  it('a target too small for a mapped image', async () => {
    const dir = scratch('size-messages');
    const image = join(dir, 'a.img');
    writeFileSync(image, Buffer.alloc(4 * 1024 * 1024));
    const target = await open(join(dir, 'card.img'), 'w+');
    try {
      const job = startJob('write', (ctx) =>
        writeMappedToTarget(image, [{ start: 0, length: 4096 }], target, ctx, { targetBytes: 1_000_000 }),
      );
      await expect(job.promise).rejects.toMatchObject({
        message: 'the target (1.0 MB) is too small for the image (4.2 MB)',
      });
    } finally {
      await target.close();
    }
  });
});
