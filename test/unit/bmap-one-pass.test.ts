// The block map and the image's own sha256 from one read of the image: the same map, range for
// range and checksum for checksum, as the two separate passes give, and sha256sum's checksum of
// the whole file, on images whose ranges cross the reads' 4 MiB pieces and end in a partial block.
// The whole image is hashed by openssl beside that read where openssl is installed, in the same
// read where it is not: both give the same sums.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
    {
      name: 'many pieces, a range across two of their edges',
      size: 13 * MiB + 512,
      data: [
        [4096, 12288],
        [4 * MiB - 4096, 8 * MiB + 4096],
        [13 * MiB, 13 * MiB + 512],
      ],
    },
  ];
  const savedPath = process.env.PATH;
  /** A PATH whose openssl records each start in LOG, then is the real one; or one with no openssl. */
  const withOpenssl = (dir: string, log: string) => {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const real = execFileSync('bash', ['-c', 'command -v openssl'], { encoding: 'utf8' }).trim();
    writeFileSync(join(bin, 'openssl'), `#!/bin/sh\necho "$*" >> '${log}'\nexec '${real}' "$@"\n`);
    chmodSync(join(bin, 'openssl'), 0o755);
    return `${bin}:${savedPath}`;
  };
  for (const c of cases) {
    it(c.name, async () => {
      const image = join(scratch('bmap-one-pass'), 'image.img');
      writeFileSync(image, '');
      execFileSync('truncate', ['-s', String(c.size), image]);
      for (const [start, end] of c.data) writePattern(image, start, end - start, `${c.name}-${start}`);
      const ranges = c.data.map(([start, end]) => ({ start, end }));
      const twoPasses = await run((ctx) => createBmap(image, ctx, { ranges }));
      const log = join(scratch('bmap-openssl'), 'openssl.log');
      const paths = { openssl: withOpenssl(scratch('bmap-path'), log), 'in this process': '/nonexistent' };
      const expected = sha256sum(image);
      for (const [how, path] of Object.entries(paths)) {
        process.env.PATH = path;
        try {
          const onePass = await run((ctx) => createBmap(image, ctx, { ranges }, { imageSha256: true }));
          expect(onePass.bmap, how).toEqual(twoPasses.bmap);
          expect(onePass.text, how).toBe(twoPasses.text);
          expect(onePass.imageSha256, how).toBe(expected);
        } finally {
          process.env.PATH = savedPath;
        }
      }
      expect(twoPasses.imageSha256).toBeUndefined();
      expect(readFileSync(log, 'utf8')).toBe(`dgst -sha256 -r ${image}\n`);
    });
  }
});
