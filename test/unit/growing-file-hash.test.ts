// The checksum of a builder's image read while the image is written: it must be the checksum of
// the whole file as it ends up, however the writes and the reads interleave, and nothing when the
// file never appears.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { hashWhileWritten } from '../../src-main/core/rawio/growing-file-hash.js';

const dir = mkdtempSync(join(tmpdir(), 'growing-hash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Appends `pieces` pieces of random sizes, pausing between them; the file appears after `delay`. */
async function writeSlowly(path: string, pieces: number, delay: number): Promise<void> {
  await sleep(delay);
  const fh = await open(path, 'wx');
  try {
    for (let i = 0; i < pieces; i++) {
      const b = Buffer.alloc(1 + Math.floor(Math.random() * 3_000_000), i * 7 + 1);
      await fh.write(b);
      await sleep(Math.random() * 150);
    }
  } finally {
    await fh.close();
  }
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('hashing an image while it is written', () => {
  it('gives the whole file’s checksum, with reads between the writes', async () => {
    const path = join(dir, 'a.gz');
    const writer = writeSlowly(path, 12, 250);
    const h = hashWhileWritten(path, writer, new AbortController().signal);
    await writer;
    const r = await h.result;
    const whole = readFileSync(path);
    expect(r).toEqual({ bytes: whole.length, sha256: sha(path) });
  });

  it('reads to the end after a writer that failed, and nothing of a file that never came', async () => {
    const path = join(dir, 'b.gz');
    const writer = writeSlowly(path, 3, 0).then(() => {
      throw new Error('the script failed');
    });
    const h = hashWhileWritten(path, writer, new AbortController().signal);
    await writer.catch(() => undefined);
    expect((await h.result)?.sha256).toBe(sha(path));
    const none = hashWhileWritten(join(dir, 'never.gz'), sleep(300), new AbortController().signal);
    expect(await none.result).toBeUndefined();
  });

  it('stops when the job is cancelled', async () => {
    const path = join(dir, 'c.gz');
    const ac = new AbortController();
    const writer = writeSlowly(path, 30, 0);
    const h = hashWhileWritten(path, writer, ac.signal);
    await sleep(200);
    ac.abort();
    await expect(h.result).rejects.toMatchObject({ code: 'cancelled' });
    await writer;
  });
});
