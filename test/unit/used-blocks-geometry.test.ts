// checkImageGeometry: an image whose partition table points past its end (truncated, or a wrong
// table) is refused with bad-input before anything is written; tables made by sfdisk.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratch } from '../helpers/fixtures.js';
import { AtlasError } from '../../src-main/core/errors.js';
import { handleReader } from '../../src-main/core/rawio/used-blocks/byte-reader.js';
import { checkImageGeometry } from '../../src-main/core/rawio/used-blocks/image-geometry.js';

const MiB = 1024 * 1024;
let dir: string;

beforeAll(() => {
  dir = scratch('geometry');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function image(name: string, bytes: number, table: string): string {
  const p = join(dir, name);
  writeFileSync(p, '');
  execFileSync('truncate', ['-s', String(bytes), p]);
  execFileSync('sfdisk', ['-q', p], { input: table, stdio: ['pipe', 'ignore', 'pipe'] });
  return p;
}

const cut = (p: string, bytes: number): void => void execFileSync('truncate', ['-s', String(bytes), p]);

async function check(path: string, size?: number) {
  const fh = await open(path, 'r');
  try {
    return await checkImageGeometry(handleReader(fh, (await fh.stat()).size), size);
  } finally {
    await fh.close();
  }
}

async function refusal(path: string, size?: number): Promise<AtlasError> {
  const err = await check(path, size).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AtlasError);
  expect((err as AtlasError).code).toBe('bad-input');
  expect((err as AtlasError).exitCode).toBe(2);
  expect((err as AtlasError).hint).toMatch(/truncated or its partition table is wrong/);
  return err as AtlasError;
}

const armbian = 'label: dos\nstart=2048, size=20480, type=c\nstart=22528, type=83\n';

describe('checkImageGeometry', () => {
  it('accepts a whole image and returns its table', async () => {
    const p = image('whole.img', 64 * MiB, armbian);
    const t = await check(p);
    expect(t.scheme).toBe('mbr');
    expect(t.partitions.map((x) => x.index)).toEqual([1, 2]);
  });

  it('refuses a truncated MBR image, saying which partition and by how much', async () => {
    const p = image('cut-mbr.img', 64 * MiB, armbian);
    cut(p, 40 * MiB);
    const e = await refusal(p);
    expect(e.message).toBe(
      `partition 2 ends at byte ${64 * MiB}, ${24 * MiB} bytes past the end of the image (${40 * MiB} bytes)`,
    );
  });

  it('refuses when the size the writer will write is smaller than the table says', async () => {
    const p = image('short-size.img', 64 * MiB, armbian);
    expect((await refusal(p, 48 * MiB)).message).toMatch(/^partition 2 ends at byte/);
  });

  it('refuses a truncated GPT image (the primary table is intact, the backup gone)', async () => {
    const p = image(
      'cut-gpt.img',
      64 * MiB,
      'label: gpt\nstart=2048, size=20480, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\nstart=22528, size=100000, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n',
    );
    cut(p, 32 * MiB);
    expect((await refusal(p)).message).toMatch(/^partition 2 ends at byte \d+, \d+ bytes past the end/);
  });

  it('refuses an image with no valid GPT behind its protective MBR', async () => {
    const p = image('no-gpt.img', 32 * MiB, 'label: gpt\nstart=2048, size=20480\n');
    const fd = openSync(p, 'r+');
    writeSync(fd, Buffer.alloc(512), 0, 512, 512);
    writeSync(fd, Buffer.alloc(512), 0, 512, 32 * MiB - 512);
    closeSync(fd);
    expect((await refusal(p)).message).toMatch(/partition table cannot be used: .*neither GPT is valid/);
  });

  it('refuses a truncated image with logical partitions: the extended partition runs past its end', async () => {
    const layout =
      'label: dos\nstart=2048, size=20480, type=c\nstart=22528, size=40960, type=83\n' +
      'start=63488, type=5\nstart=65536, size=20480, type=83\nstart=88064, type=83\n';
    const p = image('cut-logical.img', 96 * MiB, layout);
    expect((await check(p)).partitions.map((x) => x.index)).toEqual([1, 2, 5, 6]);
    cut(p, 40 * MiB); // inside the first logical partition; the second EBR is gone too
    expect((await refusal(p)).message).toMatch(/^the extended partition \(type 0x05\) ends at byte/);
  });
});
