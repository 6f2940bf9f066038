// The block map and the image's own sha256 from one read of the image: the same map, range for
// range and checksum for checksum, as the two separate passes give, and sha256sum's checksum of
// the whole file, on images whose ranges cross the reads' 4 MiB pieces and end in a partial block.
// Where filefrag tells the image's holes, they are hashed as zeros without being read; where it
// cannot, openssl hashes the whole image beside that read; with neither, the same read does it
// all: the sums are the same every way.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scratch } from '../helpers/fixtures.js';
import { MiB, writePattern } from '../helpers/used-card.js';
import { startJob, type JobContext } from '../../src-main/core/jobs/job.js';
import { createBmap } from '../../src-main/core/rawio/bmap.js';
import { dataExtents } from '../../src-main/core/tools/file-extents.js';

const run = <T>(fn: (ctx: JobContext) => Promise<T>): Promise<T> =>
  startJob('bmap one pass', fn, { progressIntervalMs: 0 }).promise;

const sha256sum = (path: string) => execFileSync('sha256sum', [path], { encoding: 'utf8' }).split(' ')[0];

const savedPath = process.env.PATH;

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
  /**
   * A PATH where `filefrag` and `openssl` record each start in LOG, then are the real ones, or
   * (in `fail`) fail as filefrag does on a file system without extent maps.
   */
  const recording = (log: string, fail: string[] = []) => {
    const bin = join(scratch('bmap-path'), 'bin');
    mkdirSync(bin);
    for (const tool of ['filefrag', 'openssl']) {
      const real = execFileSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
      const then = fail.includes(tool)
        ? `echo "${tool}: FIBMAP: Inappropriate ioctl for device" >&2; exit 1`
        : `exec '${real}' "$@"`;
      writeFileSync(join(bin, tool), `#!/bin/sh\necho "${tool} $*" >> '${log}'\n${then}\n`);
      chmodSync(join(bin, tool), 0o755);
    }
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
      const expected = sha256sum(image);
      const logs = { holes: 'holes.log', openssl: 'openssl.log' };
      const dir = scratch('bmap-logs');
      const paths = {
        // The holes from filefrag, hashed as zeros without reading them.
        holes: recording(join(dir, logs.holes)),
        // No extent map: openssl hashes the whole image beside the ranges' read.
        openssl: recording(join(dir, logs.openssl), ['filefrag']),
        // Neither tool: one pass here.
        'in this process': '/nonexistent',
      };
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
      expect(readFileSync(join(dir, logs.holes), 'utf8')).toBe(`filefrag -e ${image}\n`);
      expect(readFileSync(join(dir, logs.openssl), 'utf8')).toBe(
        `filefrag -e ${image}\nopenssl dgst -sha256 -r ${image}\n`,
      );
      expect(twoPasses.imageSha256).toBeUndefined();
    });
  }
});

describe("the image's holes, from filefrag", () => {
  it('a file system that reports too few extents is not trusted: the image is read in full', async () => {
    const image = join(scratch('bmap-few-extents'), 'image.img');
    writeFileSync(image, '');
    execFileSync('truncate', ['-s', String(6 * MiB), image]);
    writePattern(image, MiB, 4 * MiB, 'data the extent map leaves out');
    const bin = join(scratch('bmap-lying'), 'bin');
    mkdirSync(bin);
    // What filefrag prints for a file whose file system reports no extents at all.
    writeFileSync(
      join(bin, 'filefrag'),
      `#!/bin/sh\necho "Filesystem type is: ef53"\necho "File size of $2 is ${6 * MiB} (1536 blocks of 4096 bytes)"\necho " ext:     logical_offset:        physical_offset: length:   expected: flags:"\necho "$2: 0 extents found"\n`,
    );
    chmodSync(join(bin, 'filefrag'), 0o755);
    process.env.PATH = `${bin}:${savedPath}`;
    try {
      expect(await dataExtents(image)).toBeUndefined();
      const r = await run((ctx) =>
        createBmap(image, ctx, { ranges: [{ start: MiB, end: 5 * MiB }] }, { imageSha256: true }),
      );
      process.env.PATH = savedPath;
      expect(r.imageSha256).toBe(sha256sum(image));
    } finally {
      process.env.PATH = savedPath;
    }
  });

  it("the real filefrag's extents of a sparse file, in bytes", async () => {
    const image = join(scratch('bmap-extents'), 'image.img');
    writeFileSync(image, '');
    execFileSync('truncate', ['-s', String(10 * MiB + 100), image]);
    writePattern(image, 2 * MiB, MiB, 'one');
    writePattern(image, 10 * MiB, 100, 'tail');
    expect(await dataExtents(image)).toEqual([
      { start: 2 * MiB, end: 3 * MiB },
      { start: 10 * MiB, end: 10 * MiB + 100 },
    ]);
  });
});
