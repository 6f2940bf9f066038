// Flash, run for real: images (plain and compressed) onto image-file cards and loop block devices.
import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, openSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { odsSd } from '../helpers/cli.js';
import { copyFixture, fixture, scratch } from '../helpers/fixtures.js';
import {
  attachAsDevice,
  bootChecksums,
  detach,
  e2fsckClean,
  rootChecksums,
  sfdiskJson,
  sha256,
} from '../helpers/disk-tools.js';

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

describe('ods-sd flash', () => {
  let dir: string;
  let image: string;
  let size: number;

  beforeAll(() => {
    dir = scratch('flash');
    image = copyFixture(fixture('provisioned'), dir, 'ods-atlas-clone-v1-0-0-TEST.img');
    size = statSync(image).size;
  });

  it('writes only the mapped blocks of a plain image over old data, and verifies them by reading back', async () => {
    const target = card(dir, 'card.img', size + 64 * MiB);
    const r = await odsSd(['flash', image, target, '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.result).toMatchObject({ mode: 'used-blocks', imageBytes: size, failed: 0 });
    expect(r.json.result.cards).toEqual([
      expect.objectContaining({ card: target, ok: true, verified: true }),
    ]);
    // Far fewer bytes than the image crossed to the card: free space was skipped.
    expect(r.json.result.mappedBytes).toBeLessThan(size / 4);
    expect(r.json.result.cards[0].writtenBytes).toBeLessThanOrEqual(r.json.result.mappedBytes + 33 * 512);
    // The card is a faithful copy where it matters: table, file systems, every file.
    expect(sfdiskJson(target).partitions).toEqual(
      sfdiskJson(image).partitions.map((p) => ({ ...p, node: `${target}${p.node.slice(image.length)}` })),
    );
    expect(e2fsckClean(target).code).toBe(0);
    expect(rootChecksums(target)).toEqual(rootChecksums(image));
    expect(bootChecksums(target)).toEqual(bootChecksums(image));
    // Bytes past the image are the card's own, and the card kept its size.
    expect(statSync(target).size).toBe(size + 64 * MiB);
    expect(r.stderr).toMatch(/Verifying/);
  });

  it('writes several cards at once; one failing card does not stop the others', async () => {
    const good1 = card(dir, 'multi-1.img', size);
    const tooSmall = card(dir, 'multi-small.img', 32 * MiB);
    const good2 = card(dir, 'multi-2.img', size + MiB);
    const before = sha256(tooSmall);
    const r = await odsSd(['flash', image, good1, tooSmall, good2, '--yes']);
    expect(r.code).toBe(1);
    expect(r.json.result.failed).toBe(1);
    expect(r.json.result.cards.map((c: { card: string; ok: boolean }) => [c.card, c.ok])).toEqual([
      [good1, true],
      [tooSmall, false],
      [good2, true],
    ]);
    expect(r.json.result.cards[1].error.code).toBe('too-small');
    expect(sha256(tooSmall)).toBe(before);
    for (const c of [good1, good2]) {
      expect(e2fsckClean(c).code).toBe(0);
      expect(rootChecksums(c)).toEqual(rootChecksums(image));
    }
    expect(r.stdout).toMatch(/multi-small.img: FAILED/);
  });

  for (const [ext, cmd] of [
    ['xz', 'xz -T0 -1 -c'],
    ['gz', 'pigz -c'],
    ['zst', 'zstd -q -c'],
  ] as const) {
    it(`decompresses .img.${ext} on the fly`, { timeout: 300_000 }, async () => {
      const compressed = join(dir, `image.img.${ext}`);
      execFileSync('bash', ['-c', `${cmd} -- "$1" > "$2"`, 'c', image, compressed]);
      const target = card(dir, `card-${ext}.img`, size);
      const r = await odsSd(['flash', compressed, target, '--yes']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json.result.mode).toBe('stream');
      expect(r.json.result.sha256).toBe(sha256(image));
      expect(sha256(target)).toBe(sha256(image));
    });
  }

  it('writes to a block device (loop device as card reader)', async () => {
    const backing = card(dir, 'device-backing.img', size + 32 * MiB);
    const dev = attachAsDevice(backing);
    try {
      const r = await odsSd(['flash', image, dev, '--yes']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json.result.cards[0].verified).toBe(true);
      expect(e2fsckClean(dev).code).toBe(0);
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

  it('refuses an image stored on the card it would write, before touching the card', async () => {
    // A card whose file system holds the image: flashing it onto that card would destroy its source.
    const backing = join(dir, 'holds-image.img');
    execFileSync('truncate', ['-s', String(2 * size + 64 * MiB), backing]);
    execFileSync('mkfs.ext4', ['-q', '-F', backing]);
    const dev = attachAsDevice(backing);
    const mnt = join(dir, 'holds-image');
    mkdirSync(mnt, { recursive: true });
    execFileSync('mount', [dev, mnt]);
    try {
      const onCard = join(mnt, 'on-the-card.img');
      copyFileSync(image, onCard);
      const before = sha256(onCard);
      const r = await odsSd(['flash', onCard, dev, '--yes']);
      expect(r.code).toBe(2);
      expect(r.json.error).toMatchObject({ code: 'unsafe-target' });
      expect(r.json.error?.message).toBe(`${onCard} is stored on ${dev}, the card to be written`);
      expect(sha256(onCard)).toBe(before);
    } finally {
      execFileSync('umount', [mnt]);
      detach(dev);
    }
    // The card's own file system is as it was: e2fsck finds nothing to fix (it exits non-zero if it does).
    execFileSync('e2fsck', ['-fn', backing], { stdio: 'pipe' });
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

  it('ods-sd cards lists the disks and says why the system disk cannot be a card', async () => {
    const r = await odsSd(['cards']);
    expect(r.code).toBe(0);
    const root = r.json.result.find((d: { device: string }) => d.device === '/dev/vda');
    expect(root).toMatchObject({ usable: false, isSystem: true });
    expect(root.reasons.join(' ')).toMatch(/system disk/);
    expect(r.stdout).toMatch(/\/dev\/vda .* no: system disk/);
  });

  it('prints speed and progress on stderr', async () => {
    const target = card(dir, 'card-progress.img', size);
    const r = await odsSd(['flash', image, target, '--yes']);
    expect(r.stderr).toMatch(/==> Writing/);
    expect(r.stderr).toMatch(/100\.0%\s+\S+ \S+ of \S+ \S+\s+\S+ \S+\/s\s+ETA/);
  });
});
