// The medium in the reader is part of every re-check before writing: a card swapped between pick
// and write is refused by recheckCard (CLI, phases), by the app's card reference (pickedCard) and
// by the raw-disk helper, on Linux (loop devices as readers) and macOS (the diskutil double).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, scratch } from '../helpers/fixtures.js';
import {
  attachAsDevice,
  attachAsOwnDevice,
  detach,
  loopDevicesFor,
  makeFile,
} from '../helpers/disk-tools.js';
import type { CardIdentity } from '../../src-main/core/cards/card.js';
import { recheckCard } from '../../src-main/core/cards/target-guards.js';
import { HELPER_PATH, identifyRawCard } from '../../src-main/core/card-io/card-reads.js';
import { tableIdOf } from '../../src-main/core/cards/medium.js';
import { pickedCard, toRef } from '../../src-main/app/card-checks.js';
import { cardPlatform } from '../../src-main/core/cards/platform/index.js';
import { expectOf } from '../../src-main/core/cards/helper-client.js';

const MiB = 1024 * 1024;
const DOUBLE = join(ROOT, 'test', 'doubles', 'bin', 'diskutil');

/** An MBR with disk signature `sig` at 440 and the 0x55AA mark, written through `dev`. */
function writeMbrSignature(dev: string, sig: number): void {
  const fd = openSync(dev, 'r+');
  const b = Buffer.alloc(512);
  b.writeUInt32LE(sig, 440);
  b[510] = 0x55;
  b[511] = 0xaa;
  writeSync(fd, b, 0, 512, 0);
  fsyncSync(fd);
  closeSync(fd);
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as { code: string; message: string },
  );

/** One write request to the raw-disk helper for `card`, answered with its last event. */
function helperWrite(card: CardIdentity, source: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    for (const k of ['SUDO_UID', 'SUDO_GID', 'SUDO_USER', 'PKEXEC_UID']) delete env[k];
    const child = spawn(process.execPath, [HELPER_PATH], { env, stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const expect = {
      bytes: card.bytes,
      ...(card.medium ? { medium: card.medium } : {}),
      ...(card.table ? { table: card.table } : {}),
    };
    child.stdin.write(
      `${JSON.stringify({ op: 'write', device: card.path, expect, source, verify: false })}\n`,
    );
    child.on('close', () => resolve(JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>));
  });
}

describe('the medium in the reader is re-checked before writing', () => {
  let dir: string;
  let image: string;
  const attached: string[] = [];
  beforeAll(() => {
    dir = scratch('card-identity');
    image = makeFile(join(dir, 'image.img'), 4 * MiB, [[0, 4, 0x5a]]);
  });
  afterEach(() => {
    for (const dev of attached.splice(0)) {
      try {
        detach(dev);
      } catch {
        /* already detached */
      }
    }
  });

  it('reads the partition table id as fdisk and blkid print it', () => {
    const mbr = Buffer.alloc(8192);
    mbr.writeUInt32LE(0x1234abcd, 440);
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    expect(tableIdOf(mbr)).toBe('dos:1234abcd');
    const gptFile = makeFile(join(dir, 'gpt.img'), 8 * MiB, []);
    execFileSync('sfdisk', ['-q', gptFile], { input: 'label: gpt\n,\n' });
    const ptuuid = execFileSync('blkid', ['-p', '-o', 'value', '-s', 'PTUUID', gptFile], {
      encoding: 'utf8',
    });
    const fd = openSync(gptFile, 'r');
    const head = Buffer.alloc(8192);
    readSync(fd, head, 0, 8192, 0);
    closeSync(fd);
    expect(tableIdOf(head)).toBe(`gpt:${ptuuid.trim().toUpperCase()}`);
    expect(tableIdOf(Buffer.alloc(8192))).toBe('none');
  });

  it('Linux: another image attached to the same loop device is refused everywhere', async () => {
    const a = makeFile(join(dir, 'card-a.img'), 64 * MiB, [[0, 1, 0x11]]);
    const b = makeFile(join(dir, 'card-b.img'), 64 * MiB, [[0, 1, 0x11]]);
    const dev = attachAsOwnDevice(a);
    attached.push(dev);
    const card = await identifyRawCard(dev);
    expect(card.medium).toMatch(/^seq:\d+ loop:/);
    // The card that was picked is still there: every re-check accepts it.
    await recheckCard(card);
    await pickedCard(toRef(card));
    // Card A out, card B (same size, same bytes where it matters) into the same reader.
    detach(dev);
    // The kernel lets go of a detached loop device once its last opener (udev's probe) is done.
    await expect
      .poll(() => spawnSync('losetup', [dev, b]).status, { timeout: 10_000, interval: 200 })
      .toBe(0);
    expect(loopDevicesFor(b)[0]).toMatch(new RegExp(`^${dev}:`));
    const direct = await refusal(recheckCard(card));
    expect(direct).toMatchObject({ code: 'card-changed' });
    expect(direct?.message).toMatch(/medium was/);
    expect(await refusal(pickedCard(toRef(card)))).toMatchObject({ code: 'card-changed' });
    expect(await helperWrite(card, image)).toMatchObject({ event: 'error', code: 'card-changed' });
  });

  it('Linux: the same reader and medium, but another partition table (a USB reader with another card) is refused', async () => {
    const a = makeFile(join(dir, 'card-usb.img'), 64 * MiB, []);
    const dev = attachAsDevice(a);
    attached.push(dev);
    writeMbrSignature(dev, 0xaaaaaaaa);
    const card = await identifyRawCard(dev);
    expect(card.table).toBe('dos:aaaaaaaa');
    await recheckCard(card);
    writeMbrSignature(dev, 0xbbbbbbbb);
    const err = await refusal(recheckCard(card));
    expect(err).toMatchObject({ code: 'card-changed' });
    expect(err?.message).toContain('partition table was dos:aaaaaaaa, is dos:bbbbbbbb');
    expect(await refusal(pickedCard(toRef(card)))).toMatchObject({ code: 'card-changed' });
    const helper = await helperWrite(card, image);
    expect(helper).toMatchObject({ event: 'error', code: 'card-changed' });
    expect(String(helper.message)).toContain('partition table was dos:aaaaaaaa');
  });

  it('macOS: another card of the same size in the same reader is refused, by its partition table (diskutil double)', async () => {
    // On a Mac MediaName is the reader's name and a whole disk has no Disk UUID: diskutil says
    // the same of both cards. Only the cards' own partition tables differ.
    const card = (name: string, sig: number) => {
      const dev = attachAsDevice(makeFile(join(dir, name), 64 * MiB, []));
      attached.push(dev);
      writeMbrSignature(dev, sig);
      return dev;
    };
    const devA = card('mac-a.img', 0xaaaaaaaa);
    const devB = card('mac-b.img', 0xbbbbbbbb);
    const map = join(dir, 'map.json');
    const devDir = join(dir, 'mac-dev');
    mkdirSync(devDir, { recursive: true });
    const insert = (dev: string) => {
      writeFileSync(map, JSON.stringify({ disk4: dev }));
      rmSync(join(devDir, 'rdisk4'), { force: true });
      symlinkSync(dev, join(devDir, 'rdisk4'));
    };
    insert(devA);
    process.env.ATLAS_DISKUTIL_DOUBLE_MAP = map;
    try {
      const opts = { platform: 'darwin' as const, diskutil: { diskutil: DOUBLE, devDir } };
      const picked = await identifyRawCard('/dev/disk4', opts);
      expect(picked).toMatchObject({ model: 'Atlas Test Reader Media', table: 'dos:aaaaaaaa' });
      expect(picked.medium).toBe('mac:Atlas Test Reader Media|FDisk_partition_scheme');
      await recheckCard(picked, opts);
      const cards = cardPlatform('darwin');
      await cards.recheckTarget('/dev/disk4', expectOf(picked), 'read', {}, opts.diskutil);
      insert(devB);
      const err = await refusal(recheckCard(picked, opts));
      expect(err).toMatchObject({ code: 'card-changed' });
      expect(err?.message).toContain('partition table');
      // The helper's own re-check before it touches the card reads the table the same way.
      const helper = await refusal(
        cards.recheckTarget('/dev/disk4', expectOf(picked), 'write', {}, opts.diskutil),
      );
      expect(helper?.message).toContain('partition table was dos:aaaaaaaa, is dos:bbbbbbbb');
    } finally {
      delete process.env.ATLAS_DISKUTIL_DOUBLE_MAP;
    }
  });
});
