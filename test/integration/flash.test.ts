// Flash, run for real: images (plain and compressed) onto image-file cards and loop block devices.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { odsSd } from '../helpers/cli.js';
import { copyFixture, fixture, scratch } from '../helpers/fixtures.js';
import { attachAsDevice, detach, e2fsckClean, rootChecksums, sha256 } from '../helpers/disk-tools.js';

const MiB = 1024 * 1024;

function card(dir: string, name: string, bytes: number, fill = 0xa5): string {
  const p = join(dir, name);
  // A used card: old data everywhere, which the flash must overwrite.
  const fd = openSync(p, 'w');
  const chunk = Buffer.alloc(MiB, fill);
  for (let i = 0; i < bytes / MiB; i++) writeFileSync(fd, chunk);
  closeSync(fd);
  return p;
}

function prefixSha(path: string, length: number): string {
  const fd = openSync(path, 'r');
  const h = createHash('sha256');
  const buf = Buffer.alloc(MiB);
  let pos = 0;
  while (pos < length) {
    const n = readSync(fd, buf, 0, Math.min(MiB, length - pos), pos);
    if (n <= 0) break;
    h.update(buf.subarray(0, n));
    pos += n;
  }
  closeSync(fd);
  return h.digest('hex');
}

describe('ods-sd flash', () => {
  let dir: string;
  let image: string;
  let size: number;

  beforeAll(() => {
    dir = scratch('flash');
    image = copyFixture(fixture('provisioned'), dir, 'ods-atlas-clone-v1-0-0-TEST.img');
    size = statSync(image).size;
  });

  it('writes a plain image over old data and verifies it by reading back', async () => {
    const target = card(dir, 'card.img', size + 64 * MiB);
    const r = await odsSd(['flash', image, target, '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.result).toMatchObject({ verified: true, bytes: size, sha256: sha256(image) });
    expect(prefixSha(target, size)).toBe(sha256(image));
    // Bytes past the image are the card's own (not the flash's business), and the card kept its size.
    expect(statSync(target).size).toBe(size + 64 * MiB);
    expect(e2fsckClean(target).code).toBe(0);
    expect(r.stderr).toMatch(/Verifying/);
  });

  for (const [ext, cmd] of [
    ['xz', 'xz -T0 -1 -c'],
    ['gz', 'pigz -c'],
    ['zst', 'zstd -q -c'],
  ] as const) {
    it(`decompresses .img.${ext} on the fly`, async () => {
      const compressed = join(dir, `image.img.${ext}`);
      execFileSync('bash', ['-c', `${cmd} -- "$1" > "$2"`, 'c', image, compressed]);
      const target = card(dir, `card-${ext}.img`, size);
      const r = await odsSd(['flash', compressed, target, '--yes']);
      expect(r.code, r.stderr).toBe(0);
      expect(sha256(target)).toBe(sha256(image));
    });
  }

  it('writes to a block device (loop device as card reader)', async () => {
    const backing = card(dir, 'device-backing.img', size + 32 * MiB);
    const dev = attachAsDevice(backing);
    try {
      const r = await odsSd(['flash', image, dev, '--yes']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json.result.verified).toBe(true);
      expect(prefixSha(dev, size)).toBe(sha256(image));
      expect(rootChecksums(dev)).toEqual(rootChecksums(image));
    } finally {
      detach(dev);
    }
  });

  it('refuses a card smaller than the image before writing', async () => {
    const target = card(dir, 'small.img', 64 * MiB);
    const before = sha256(target);
    const r = await odsSd(['flash', image, target, '--yes']);
    expect(r.code).toBe(2);
    expect(r.json.error?.code).toBe('too-small');
    expect(sha256(target)).toBe(before);
  });

  it('refuses a compressed image that turns out larger than the card, without growing it', async () => {
    const gz = join(dir, 'big.img.gz');
    execFileSync('bash', ['-c', 'pigz -c -- "$1" > "$2"', 'c', image, gz]);
    const target = card(dir, 'small2.img', 128 * MiB);
    const r = await odsSd(['flash', gz, target, '--yes']);
    expect(r.code).toBe(2);
    expect(r.json.error?.code).toBe('too-small');
    expect(statSync(target).size).toBe(128 * MiB);
  });

  it('refuses to write an image onto itself, a missing image, and a corrupt download', async () => {
    const self = await odsSd(['flash', image, image, '--yes']);
    expect(self.code).toBe(2);
    expect(self.json.error?.code).toBe('unsafe-target');
    const missing = await odsSd(['flash', join(dir, 'nope.img'), image, '--yes']);
    expect(missing.code).toBe(2);
    expect(missing.json.error?.code).toBe('not-found');
    const xz = join(dir, 'corrupt.img.xz');
    execFileSync('bash', ['-c', 'xz -1 -c -- "$1" | head -c 300000 > "$2"', 'c', image, xz]);
    const target = card(dir, 'card-corrupt.img', size);
    const corrupt = await odsSd(['flash', xz, target, '--yes']);
    expect(corrupt.code).toBe(2);
    expect(corrupt.json.error?.message).toMatch(/xz/);
  });

  it('needs confirmation: without --yes and without a terminal nothing is written', async () => {
    const target = card(dir, 'unconfirmed.img', size);
    const before = sha256(target);
    const r = await odsSd(['flash', image, target]);
    expect(r.code).toBe(2);
    expect(sha256(target)).toBe(before);
  });

  it('refuses a system disk as target', async () => {
    const root = execFileSync('findmnt', ['-n', '-o', 'SOURCE', '/'], { encoding: 'utf8' }).trim();
    expect(root, 'this test needs / on a block device').toMatch(/^\/dev\//);
    const r = await odsSd(['flash', image, root, '--yes']);
    expect(r.code).toBe(2);
    expect(r.json.error?.code).toBe('unsafe-target');
  });

  it('prints speed and progress on stderr', async () => {
    const target = card(dir, 'card-progress.img', size);
    const r = await odsSd(['flash', image, target, '--yes']);
    expect(r.stderr).toMatch(/==> Writing/);
    expect(r.stderr).toMatch(/100\.0%\s+\S+ \S+ of \S+ \S+\s+\S+ \S+\/s\s+ETA/);
  });
});
