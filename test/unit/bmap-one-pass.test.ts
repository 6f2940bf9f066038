// The block map and the image's own sha256 from one read of the image: the same map, range for
// range and checksum for checksum, as the two separate passes give, and sha256sum's checksum of
// the whole file, on images whose ranges cross the reads' 1 MiB pieces and end in a partial block.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scratch } from '../helpers/fixtures.js';
import { MiB, writePattern } from '../helpers/used-card.js';
import { startJob, type JobContext } from '../../src-main/core/jobs/job.js';
import { createBmap } from '../../src-main/core/rawio/bmap.js';

const run = <T>(fn: (ctx: JobContext) => Promise<T>): Promise<T> =>
  startJob('bmap one pass', fn, { progressIntervalMs: 0 }).promise;

const sha256sum = (path: string) => execFileSync('sha256sum', [path], { encoding: 'utf8' }).split(' ')[0];

describe('the block map and the image checksum in one read', () => {
  const cases: Array<{ name: string; size: number; data: Array<[number, number]> }> = [
    {
      name: 'ranges across pieces, partial last block',
      size: 9 * MiB + 1000,
      data: [
        [0, 8192],
        [3 * MiB - 100, 5 * MiB + 77],
        [9 * MiB, 9 * MiB + 1000],
      ],
    },
    { name: 'one range over the whole image', size: 3 * MiB, data: [[0, 3 * MiB]] },
    { name: 'data only at the end', size: 5 * MiB + 4096, data: [[5 * MiB, 5 * MiB + 4096]] },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const image = join(scratch('bmap-one-pass'), 'image.img');
      writeFileSync(image, '');
      execFileSync('truncate', ['-s', String(c.size), image]);
      for (const [start, end] of c.data) writePattern(image, start, end - start, `${c.name}-${start}`);
      const ranges = c.data.map(([start, end]) => ({ start, end }));
      const twoPasses = await run((ctx) => createBmap(image, ctx, { ranges }));
      const onePass = await run((ctx) => createBmap(image, ctx, { ranges }, { imageSha256: true }));
      expect(onePass.bmap).toEqual(twoPasses.bmap);
      expect(onePass.text).toBe(twoPasses.text);
      expect(twoPasses.imageSha256).toBeUndefined();
      expect(onePass.imageSha256).toBe(sha256sum(image));
    });
  }
});
