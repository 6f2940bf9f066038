// Both card platforms through the one CardPlatform interface, with the same questions: Linux
// against loop devices on this machine, macOS through the diskutil test double
// (test/doubles/bin/diskutil), where a Mac disk is a loop device too. Results are judged with
// util-linux (blockdev, findmnt, lsblk, losetup), not with the code under test.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, scratch } from '../helpers/fixtures.js';
import { attachAsDevice, detach, loopDevicesFor, makeFile } from '../helpers/disk-tools.js';
import { cardPlatform, type CardPlatform } from '../../src-main/core/cards/platform/index.js';
import { blocking } from '../../src-main/core/cards/target-guards.js';
import { expectOf } from '../../src-main/core/cards/helper-client.js';
import type { DiskutilOptions } from '../../src-main/core/cards/diskutil.js';
import type { EjectResult } from '../../src-main/common/cards.js';

const MiB = 1024 * 1024;
const CARD_BYTES = 64 * MiB;
const DOUBLE = join(ROOT, 'test', 'doubles', 'bin', 'diskutil');

/** What each platform is asked, and what it must answer (where the two differ by design). */
interface Case {
  cards: CardPlatform;
  opts: DiskutilOptions;
  /** The card, as this platform names it. */
  card: string;
  /** The loop device and file standing in for it. */
  loop: string;
  backing: string;
  raw: string;
  /** Names that are not whole cards here. */
  notCards: string[];
  /** A disk this platform must refuse as the machine's own, and the helper's words for it. */
  system: string;
  systemRefusal: RegExp;
  medium: RegExp;
  /** What `release` reports for the card mounted at `mnt`. */
  released: (mnt: string) => string[];
  handedBack: (c: Case) => EjectResult;
}

function failure(p: Promise<unknown>): Promise<{ code: string; message: string } | undefined> {
  return p.then(
    () => undefined,
    (e: unknown) => e as { code: string; message: string },
  );
}

/** Is a file system mounted at `dir` (findmnt exits 1 when none is)? */
function mounted(dir: string): boolean {
  try {
    return (
      execFileSync('findmnt', ['-n', '-o', 'TARGET', '--mountpoint', dir], { encoding: 'utf8' }).trim() !== ''
    );
  } catch {
    return false;
  }
}

/** The whole disk holding /, by util-linux alone. */
function rootDisk(): string {
  const source = execFileSync('findmnt', ['-n', '-o', 'SOURCE', '/'], { encoding: 'utf8' }).trim();
  expect(source, 'this test needs / on a block device').toMatch(/^\/dev\//);
  const parent = execFileSync('lsblk', ['-n', '-d', '-o', 'PKNAME', source], { encoding: 'utf8' }).trim();
  return parent ? `/dev/${parent}` : source;
}

const cases: Partial<Record<'linux' | 'darwin', Case>> = {};
let dir: string;
let mnt: string;
const loops: Array<{ dev: string; backing: string }> = [];

function ext4Card(name: string): { dev: string; backing: string } {
  const backing = makeFile(join(dir, name), CARD_BYTES, []);
  execFileSync('mkfs.ext4', ['-q', '-F', '-L', 'armbi_root', backing]);
  const dev = attachAsDevice(backing);
  loops.push({ dev, backing });
  return { dev, backing };
}

beforeAll(() => {
  dir = scratch('card-platform');
  mnt = join(dir, 'mnt');
  mkdirSync(mnt, { recursive: true });
  const linuxCard = ext4Card('linux-card.img');
  const macCard = ext4Card('mac-card.img');
  const macInternal = ext4Card('mac-internal.img');
  const macSlot = ext4Card('mac-sd-slot.img');
  const map = join(dir, 'map.json');
  writeFileSync(
    map,
    JSON.stringify({
      disk4: macCard.dev,
      disk5: {
        loop: macInternal.dev,
        mediaName: 'APPLE SSD AP0512Q',
        internal: true,
        removable: false,
        protocol: 'PCI-Express',
      },
      // The MacBook's own SD slot (test/fixtures/recorded/diskutil-info-plist-sdxc-reader.txt).
      disk6: {
        loop: macSlot.dev,
        mediaName: 'Built In SDXC Reader',
        internal: true,
        removable: true,
        protocol: 'Secure Digital',
      },
    }),
  );
  process.env.ATLAS_DISKUTIL_DOUBLE_MAP = map;
  cases.linux = {
    cards: cardPlatform('linux'),
    opts: {},
    card: linuxCard.dev,
    loop: linuxCard.dev,
    backing: linuxCard.backing,
    raw: linuxCard.dev,
    notCards: ['/dev/sda1', '/dev/mmcblk0p1', '/dev/nvme0n1', '/dev/vda', '/dev/disk4', 'sdc'],
    system: rootDisk(),
    systemRefusal: /holds the running system \(\/ is on it\)/,
    medium: new RegExp(`loop:${linuxCard.backing}:\\d+`),
    released: (m) => [m],
    handedBack: (c) => ({
      ejected: false,
      message: `flushed; ${c.card} is a loop device, there is nothing to eject`,
    }),
  };
  cases.darwin = {
    cards: cardPlatform('darwin'),
    opts: { diskutil: DOUBLE },
    card: '/dev/disk4',
    loop: macCard.dev,
    backing: macCard.backing,
    raw: '/dev/rdisk4',
    notCards: ['/dev/disk4s1', '/dev/sda', '/dev/loop0', 'disk4', '/dev/disk4s1s1'],
    system: '/dev/disk5',
    systemRefusal: /\/dev\/disk5 is an internal, fixed disk/,
    medium: /^mac:Atlas Test Reader Media\|/,
    released: () => [],
    handedBack: () => ({ ejected: true, message: 'Disk /dev/disk4 ejected' }),
  };
});

afterAll(() => {
  delete process.env.ATLAS_DISKUTIL_DOUBLE_MAP;
  if (mounted(mnt)) execFileSync('umount', [mnt]);
  for (const { dev, backing } of loops) {
    if (loopDevicesFor(backing).some((l) => l.startsWith(`${dev}:`))) detach(dev);
  }
});

describe('the platform for a system', () => {
  it('macOS gets the darwin rules, Linux (and any other system, as before) the Linux ones', () => {
    expect(cardPlatform('darwin').name).toBe('darwin');
    expect(cardPlatform('linux').name).toBe('linux');
    expect(cardPlatform('freebsd').name).toBe('linux');
    expect(cardPlatform().name).toBe('linux'); // this machine
  });
});

describe.each(['linux', 'darwin'] as const)('the %s card platform', (name) => {
  const c = () => cases[name]!;

  it('names whole cards only, and says how they are named', () => {
    const { cards, card, notCards } = c();
    expect(cards.wholeCard.test(card)).toBe(true);
    for (const other of notCards) expect(cards.wholeCard.test(other), other).toBe(false);
    expect(cards.wholeCardHint).toMatch(name === 'darwin' ? /\/dev\/diskN/ : /\/dev\/sdX/);
  });

  it('reads and writes a card through its raw node', () => {
    const { cards, card, raw } = c();
    expect(cards.rawPath(card)).toBe(raw);
    // A partition, or a name of the other system, is left as it is.
    expect(cards.rawPath(`${card}s1`)).toBe(`${card}s1`);
    expect(cards.rawPath('/dev/sdc')).toBe('/dev/sdc');
  });

  it('identifies the card and its medium, and the helper re-checks it by that identity', async () => {
    const { cards, card, opts, loop, medium, raw } = c();
    const id = await cards.identify(card, opts);
    const bytes = Number(execFileSync('blockdev', ['--getsize64', loop], { encoding: 'utf8' }));
    expect(id).toMatchObject({ path: card, kind: 'device', bytes, readOnly: false });
    expect(bytes).toBe(CARD_BYTES);
    expect(id.medium).toMatch(medium);
    const target = await cards.recheckTarget(card, expectOf(id), 'read', {}, opts);
    expect(target).toEqual({ io: raw, whole: card, bytes });
    // A card of another size in its place is not the one that was picked.
    const other = await failure(
      cards.recheckTarget(card, { ...expectOf(id), bytes: bytes + 512 }, 'read', {}, opts),
    );
    expect(other).toMatchObject({ code: 'card-changed' });
    // An image file standing in for a card is a file on both systems.
    const file = makeFile(join(dir, `${name}-image.img`), 3 * MiB, []);
    expect(await cards.identify(file, opts)).toMatchObject({ path: file, kind: 'file', bytes: 3 * MiB });
  });

  it('refuses the disk the machine runs from, and has nothing against the card', async () => {
    const { cards, card, opts, system, systemRefusal } = c();
    const context = { platform: name, diskutil: opts };
    const reasons = await cards.targetReasons(system, context);
    expect(blocking(reasons, context), JSON.stringify(reasons)).toBeDefined();
    const refused = await failure(cards.recheckTarget(system, { bytes: 1 }, 'write', {}, opts));
    expect(refused?.code).toBe('unsafe-target');
    expect(refused?.message).toMatch(systemRefusal);
    const ok = await cards.targetReasons(card, context);
    expect(blocking(ok, context), JSON.stringify(ok)).toBeUndefined();
  });

  it('unmounts the card: every volume, and again what a write must not have mounted', async () => {
    const { cards, card, opts, loop, backing, released } = c();
    execFileSync('mount', [loop, mnt]);
    expect(mounted(mnt)).toBe(true);
    const r = await cards.unmount(card, opts);
    expect(mounted(mnt)).toBe(false);
    expect(r.message).toBe(
      name === 'darwin' ? 'Unmount of all volumes on disk4 was successful' : `unmounted ${mnt}`,
    );
    execFileSync('mount', [loop, mnt]);
    expect(await cards.release(card, { platform: name, diskutil: opts })).toEqual(released(mnt));
    expect(mounted(mnt)).toBe(false);
    expect(loopDevicesFor(backing)).toHaveLength(1); // unmounted, still attached
  });

  it('names an open descriptor by a path that reads the same file', () => {
    const { cards } = c();
    const file = join(dir, `${name}-fd.txt`);
    writeFileSync(file, `read through ${name}`);
    const fd = openSync(file, 'r');
    try {
      expect(cards.fdPath(fd)).toBe(name === 'darwin' ? `/dev/fd/${fd}` : `/proc/${process.pid}/fd/${fd}`);
      expect(readFileSync(cards.fdPath(fd), 'utf8')).toBe(`read through ${name}`);
    } finally {
      closeSync(fd);
    }
  });

  it('opens cards in this process only as root on Linux; else the raw-disk helper does', () => {
    expect(process.geteuid?.()).toBe(0); // the disk lane runs as root
    expect(c().cards.opensCardsHere()).toBe(name === 'linux');
  });

  it('hands the card back after a write', async () => {
    const { cards, card, opts, backing, handedBack } = c();
    const r = await cards.handBack(card, { platform: name, diskutil: opts });
    expect(r).toEqual(handedBack(c()));
    // diskutil eject takes the card away; a loop device on Linux stays.
    expect(loopDevicesFor(backing)).toHaveLength(name === 'darwin' ? 0 : 1);
  });
});

describe("the Mac's own SD slot", () => {
  it('is a card reader: written without a typed name, never called an internal disk', async () => {
    const { cards, opts } = cases.darwin!;
    const context = { platform: 'darwin' as const, diskutil: opts };
    const slot = await cards.targetReasons('/dev/disk6', context);
    expect(slot, JSON.stringify(slot)).toEqual([]);
    const id = await cards.identify('/dev/disk6', opts);
    const target = await cards.recheckTarget('/dev/disk6', expectOf(id), 'read', {}, opts);
    expect(target).toMatchObject({ io: '/dev/rdisk6', whole: '/dev/disk6', bytes: CARD_BYTES });
    // The Mac's SSD, internal and fixed, still needs its own confirmation.
    const ssd = await cards.targetReasons('/dev/disk5', context);
    expect(ssd.map((r) => r.message)).toContain('an internal disk, not a card in a reader');
  });
});

describe('opening a card on Linux', () => {
  it('is exclusive: a mounted card cannot be opened, and the error says what to do', async () => {
    const { cards, loop } = cases.linux!;
    execFileSync('mount', [loop, mnt]);
    try {
      const e = await failure(cards.openDevice(loop, 'write'));
      expect(e?.code).toBe('EBUSY');
      expect(cards.openDeviceError(e, loop)).toMatchObject({
        code: 'unsafe-target',
        message: `${loop} is in use (a partition is mounted or another program has it open)`,
      });
    } finally {
      execFileSync('umount', [mnt]);
    }
    const fh = await cards.openDevice(loop, 'write');
    await fh.close();
  });
});
