// Finding cards: recorded drivelist output (Linux, captured here; macOS-shaped, built from
// drivelist's source) turned into candidates, every refusal with its reason, and the real
// drivelist and sysfs on this machine judged against independent tools (findmnt, lsblk).
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Drive } from 'drivelist';
import { describe, expect, it } from 'vitest';
import {
  devNumber,
  disksHoldingFile,
  listCards,
  rawDeviceOf,
  toCandidate,
  type DriveCandidate,
} from '../../src-main/core/cards/drive-list.js';
import { ROOT } from '../helpers/fixtures.js';

const recorded = (name: string): Drive[] =>
  (JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'recorded', name), 'utf8')) as { drives: Drive[] })
    .drives;
const byDevice = (list: DriveCandidate[], device: string) => {
  const c = list.find((x) => x.device === device);
  expect(c, device).toBeDefined();
  return c!;
};
const GB = 1e9;

describe('candidates from a Linux drivelist capture', () => {
  const drives = recorded('drivelist-linux.json');
  const list = () => Promise.resolve(structuredClone(drives));

  it('keeps every disk, the system disk and the zram swap refused with their reasons', async () => {
    const cards = await listCards({ list, platform: 'linux', identify: async () => ({}) });
    expect(cards.map((c) => c.device)).toEqual(drives.map((d) => d.device));
    const vda = byDevice(cards, '/dev/vda');
    expect(vda).toMatchObject({ usable: false, isSystem: true, rawDevice: '/dev/vda', mountpoints: ['/'] });
    expect(vda.reasons).toEqual(['system disk: the running system is on it (mounted at /)']);
    const zram = byDevice(cards, '/dev/zram0');
    expect(zram.usable).toBe(false);
    expect(zram.reasons).toEqual([
      'virtual disk (a disk image, RAM disk or swap device), not a card in a reader',
      'no card in the reader (size unknown or 0 bytes)',
    ]);
  });

  it('allowing virtual disks lifts only that reason', async () => {
    const cards = await listCards({
      list,
      platform: 'linux',
      identify: async () => ({}),
      allowVirtual: true,
    });
    expect(byDevice(cards, '/dev/zram0').reasons).toEqual([
      'no card in the reader (size unknown or 0 bytes)',
    ]);
  });

  it('names the disk holding the source image, and passes identities through', async () => {
    const cards = await listCards({
      list,
      platform: 'linux',
      sourceImage: '/srv/images/golden.img',
      holders: async (p) => (p === '/srv/images/golden.img' ? ['/dev/vda'] : []),
      identify: async (d) => (d === '/dev/vda' ? { serial: 'S1', model: 'M1', medium: 'mmc:0123' } : {}),
    });
    const vda = byDevice(cards, '/dev/vda');
    expect(vda.reasons).toContain(
      'holds the source image /srv/images/golden.img: copy the image elsewhere first',
    );
    expect(vda).toMatchObject({ serial: 'S1', model: 'M1', medium: 'mmc:0123' });
    expect(byDevice(cards, '/dev/zram0').reasons.join()).not.toMatch(/source image/);
  });
});

describe('candidates from a macOS-shaped drivelist list', () => {
  const drives = recorded('drivelist-macos.json');
  const list = () => Promise.resolve(structuredClone(drives));
  const mac = (extra: Partial<Parameters<typeof listCards>[0]> = {}) =>
    listCards({ list, platform: 'darwin', identify: async () => ({}), ...extra });

  it('offers the USB reader and the built-in SDXC slot, with raw /dev/rdiskN nodes', async () => {
    const cards = await mac();
    expect(cards.filter((c) => c.usable).map((c) => c.device)).toEqual(['/dev/disk2', '/dev/disk4']);
    expect(byDevice(cards, '/dev/disk2')).toMatchObject({
      rawDevice: '/dev/rdisk2',
      description: 'SanDisk SDDR-B531 Media',
      size: 63864569856,
      busType: 'USB',
      removable: true,
      reasons: [],
    });
    expect(byDevice(cards, '/dev/disk4')).toMatchObject({
      rawDevice: '/dev/rdisk4',
      busType: 'Secure Digital',
      mountpoints: ['/Volumes/RPICFG'],
    });
  });

  it('refuses the internal SSD, its APFS container, a locked card and a disk image, saying why', async () => {
    const cards = await mac();
    expect(byDevice(cards, '/dev/disk0').reasons).toEqual([
      'system disk: the running system is on it (mounted at /)',
    ]);
    expect(byDevice(cards, '/dev/disk3').reasons).toEqual([
      'system disk: the running system is on it (mounted at /)',
      'virtual disk (a disk image, RAM disk or swap device), not a card in a reader',
    ]);
    expect(byDevice(cards, '/dev/disk5').reasons).toEqual([
      "read-only: slide the card's lock switch to unlocked and insert it again",
    ]);
    expect(byDevice(cards, '/dev/disk6').reasons).toEqual([
      'virtual disk (a disk image, RAM disk or swap device), not a card in a reader',
      "read-only: slide the card's lock switch to unlocked and insert it again",
    ]);
  });

  it('refuses cards too small for the image, and only those', async () => {
    const cards = await mac({ requiredBytes: 16 * GB });
    expect(byDevice(cards, '/dev/disk4').reasons).toEqual(['too small: 8.0 GB, the image needs 16.0 GB']);
    expect(byDevice(cards, '/dev/disk2').usable).toBe(true);
  });

  it('refuses the card the source image is stored on', async () => {
    const cards = await mac({ sourceImage: '/Volumes/RPICFG/x.img', holders: async () => ['/dev/disk4'] });
    expect(byDevice(cards, '/dev/disk4').reasons).toEqual([
      'holds the source image /Volumes/RPICFG/x.img: copy the image elsewhere first',
    ]);
  });
});

describe('single drives', () => {
  const base = recorded('drivelist-macos.json')[1]!;

  it('an empty reader and a drive with an error are refused', () => {
    const empty = toCandidate({ ...base, size: null }, { platform: 'darwin' });
    expect(empty.reasons).toEqual(['no card in the reader (size unknown or 0 bytes)']);
    const broken = toCandidate({ ...base, error: 'I/O error' as unknown as null }, { platform: 'darwin' });
    expect(broken.reasons).toEqual(['the system reported an error for this disk: I/O error']);
  });

  it('raw nodes: /dev/rdiskN on macOS only', () => {
    expect(rawDeviceOf('/dev/disk12', 'darwin')).toBe('/dev/rdisk12');
    expect(rawDeviceOf('/dev/disk12s1', 'darwin')).toBe('/dev/disk12s1');
    expect(rawDeviceOf('/dev/sdc', 'linux')).toBe('/dev/sdc');
  });
});

describe('on this machine', () => {
  /** The whole disk under a path, by util-linux alone. */
  function wholeDiskOf(path: string): string {
    const source = execFileSync('findmnt', ['-n', '-o', 'SOURCE', '--target', path], {
      encoding: 'utf8',
    }).trim();
    expect(source, 'this test needs the repository on a block device').toMatch(/^\/dev\//);
    const parent = execFileSync('lsblk', ['-n', '-d', '-o', 'PKNAME', source], { encoding: 'utf8' }).trim();
    return parent ? `/dev/${parent}` : source;
  }

  it('finds the disk a file is stored on from its st_dev, as findmnt and lsblk do', async () => {
    const file = join(ROOT, 'package.json');
    expect(await disksHoldingFile(file, 'linux')).toContain(wholeDiskOf(file));
    const lsblkNumber = execFileSync('findmnt', ['-n', '-o', 'MAJ:MIN', '--target', file], {
      encoding: 'utf8',
    }).trim();
    expect(devNumber(statSync(file).dev)).toBe(lsblkNumber);
  });

  it('the real drivelist lists the system disk, refused', async () => {
    const cards = await listCards({ platform: 'linux' });
    const system = byDevice(cards, wholeDiskOf('/'));
    expect(system.usable).toBe(false);
    expect(system.reasons.join(' ')).toMatch(/system disk/);
  });
});
