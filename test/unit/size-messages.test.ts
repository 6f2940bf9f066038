// Sizes in messages are written in MB/GB as everywhere else, never as raw byte counts.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertWritableCard } from '../../src-main/core/cards/card.js';
import { identifyRawCard } from '../../src-main/core/card-io/card-reads.js';
import { writeImage } from '../../src-main/core/write/write-pipeline.js';
import { startJob } from '../../src-main/core/jobs/job.js';
import { scratch } from '../helpers/fixtures.js';
import { formatBytes } from '../../src-main/common/format-bytes.js';

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
    const target = join(dir, 'card.img');
    writeFileSync(target, Buffer.alloc(1_000_000));
    const card = await identifyRawCard(target);
    const job = startJob('write', (ctx) => writeImage(image, card, ctx, { verify: false }));
    await expect(job.promise).rejects.toMatchObject({
      message: `the card is too small: ${target} has 1.0 MB, 4.2 MB are needed`,
    });
  });
});

const SCRIPTS = join(import.meta.dirname, '..', '..', 'lima', 'scripts');

/** atlas_size of `script` (atlas-common.sh, or a standalone script that carries its own copy). */
function atlasSize(script: string, n: number): string {
  const fn = readFileSync(join(SCRIPTS, script), 'utf8').match(/^atlas_size\(\) \{[\s\S]*?\n\}\n/m);
  expect(fn, `${script} defines atlas_size`).not.toBeNull();
  return execFileSync('bash', ['-c', `${fn![0]}\natlas_size "$1"`, 'atlas_size', String(n)], {
    encoding: 'utf8',
  });
}

/** A byte count printed as such: `$x bytes` or `${…} bytes`, unless in brackets after a size, or a block's size. */
const RAW_BYTES = /(?<!\()(\$\w+|\$\(\([^)]*\)\)|\$\{[^}]*\}) bytes\b/g;

function rawByteCounts(line: string): string[] {
  return [...line.matchAll(RAW_BYTES)]
    .map((m) => m[0])
    .filter((m) => !/block_?size|BLOCK_SIZE|blockSize/i.test(m));
}

describe('sizes in the scripts and the phases', () => {
  it("the scripts' atlas_size writes sizes as the app does, in atlas-common.sh and in the standalone restore_golden.sh", () => {
    for (const n of [0, 999, 1000, 65_536, 420e6, 629_145_600, 7_948_206_080, 8_053_063_680, 2.5e12]) {
      expect(atlasSize('atlas-common.sh', n)).toBe(formatBytes(n));
      expect(atlasSize('restore_golden.sh', n)).toBe(formatBytes(n));
    }
  });

  it('no refusal of a script prints a bare byte count', () => {
    const found: string[] = [];
    for (const f of readdirSync(SCRIPTS).filter((n) => n.endsWith('.sh'))) {
      readFileSync(join(SCRIPTS, f), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (!/\b(atlas_)?fail\b/.test(line)) return;
          for (const m of rawByteCounts(line)) found.push(`${f}:${i + 1}: ${m}`);
        });
    }
    expect(found).toEqual([]);
  });

  it("no phase's refusal prints a bare byte count", () => {
    const dir = join(import.meta.dirname, '..', '..', 'src-main', 'core', 'phases');
    const found: string[] = [];
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      const text = readFileSync(join(dir, f), 'utf8');
      // Each AtlasError's message: the template literal that follows its code.
      for (const m of text.matchAll(/new AtlasError\(\s*'[\w-]+',\s*`([^`]*)`/g)) {
        for (const raw of rawByteCounts(m[1]!)) found.push(`${f}: ${raw}`);
      }
    }
    expect(found).toEqual([]);
  });

  it('the check itself finds a bare byte count, and lets one in brackets after a size pass', () => {
    expect(rawByteCounts('fail too-small "it has $target_bytes bytes, it needs $((n * 512)) bytes"')).toEqual(
      ['$target_bytes bytes', '$((n * 512)) bytes'],
    );
    expect(rawByteCounts('`it has ${cardBytes} bytes`')).toEqual(['${cardBytes} bytes']);
    expect(rawByteCounts('"has $(atlas_size "$got") ($got bytes), $n blocks of $block_size bytes"')).toEqual(
      [],
    );
  });
});
