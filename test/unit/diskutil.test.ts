// diskutil: parsing real `diskutil info -plist` output, device names, and how failures are told.
// The recorded outputs and where they come from are listed in test/doubles/README.md.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  diskutilTarget,
  isCardReader,
  info,
  parseDiskInfo,
  parsePlist,
} from '../../src-main/core/cards/diskutil.js';
import { eject, unmountDisk } from '../../src-main/core/cards/target-guards.js';
import { AtlasError } from '../../src-main/core/errors.js';
import { ROOT } from '../helpers/fixtures.js';

const recorded = (name: string) => readFileSync(join(ROOT, 'test', 'fixtures', 'recorded', name), 'utf8');
const DOUBLE = join(ROOT, 'test', 'doubles', 'bin', 'diskutil');

async function failure(p: Promise<unknown>): Promise<AtlasError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AtlasError);
  return e as AtlasError;
}

describe('diskutil info -plist', () => {
  it('reads a volume on an external USB disk (recorded on a Mac)', () => {
    const d = parseDiskInfo(recorded('diskutil-info-plist-usb-volume.txt'));
    expect(d).toEqual({
      identifier: 'disk11s2',
      node: '/dev/disk11s2',
      wholeDisk: false,
      parentWholeDisk: 'disk11',
      bytes: 5000603328512,
      removable: false,
      ejectable: true,
      internal: false,
      writable: true,
      virtual: false,
      busProtocol: 'USB',
      mountPoint: '/Volumes/HDD',
      diskUUID: '4118AB4C-B7C9-462C-B849-BBAE385E0100',
      content: 'Apple_HFS',
      apfsPhysicalStores: [],
    });
    // MediaName is an empty string there: absent, not "".
    expect(d.mediaName).toBeUndefined();
  });

  it("a Mac's own SD slot is internal but a card reader; a USB reader is external; the SSD is neither", () => {
    const slot = parseDiskInfo(recorded('diskutil-info-plist-sdxc-reader.txt'));
    expect(slot).toMatchObject({
      identifier: 'disk4',
      wholeDisk: true,
      internal: true,
      removable: true,
      busProtocol: 'Secure Digital',
      mediaName: 'Built In SDXC Reader',
    });
    expect(slot.diskUUID).toBeUndefined();
    expect(isCardReader(slot)).toBe(true);
    // The same slot, were it to report fixed media: the bus protocol still says it is a card.
    expect(isCardReader({ ...slot, removable: false })).toBe(true);
    const usb = parseDiskInfo(recorded('diskutil-info-plist-usb-reader.txt'));
    expect(usb).toMatchObject({ internal: false, removable: false, busProtocol: 'USB' });
    expect(isCardReader(usb)).toBe(true);
    const root = parseDiskInfo(recorded('diskutil-info-plist-apfs-root.txt'));
    expect(isCardReader(root)).toBe(false);
  });

  it('reads the APFS system volume: internal, mounted at /, with its physical store', () => {
    const d = parseDiskInfo(recorded('diskutil-info-plist-apfs-root.txt'));
    expect(d).toMatchObject({
      identifier: 'disk1s5s1',
      parentWholeDisk: 'disk1',
      internal: true,
      removable: false,
      writable: false,
      mountPoint: '/',
      busProtocol: 'PCI',
      apfsPhysicalStores: ['disk0s2'],
      bytes: 500068036608,
    });
  });

  it("turns diskutil's error property list into not-found with its own message", () => {
    let err: unknown;
    try {
      parseDiskInfo(recorded('diskutil-info-plist-not-found.txt'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AtlasError);
    expect((err as AtlasError).code).toBe('not-found');
    expect((err as AtlasError).message).toBe('Could not find disk: /Volumes/SMB');
    expect((err as AtlasError).hint).toMatch(/insert the card/);
  });
});

describe('property lists', () => {
  it('parses nested arrays and dictionaries, entities, empty and self-closing values', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>A &amp; B</key>
	<string>R&amp;D &lt;card&gt; &#233;</string>
	<key>Empty</key>
	<string></string>
	<key>Space</key>
	<string> </string>
	<key>List</key>
	<array>
		<integer>-3</integer>
		<real>1.5</real>
		<array/>
		<dict/>
		<true/>
	</array>
	<key>Nothing</key>
	<array>
	</array>
	<key>Blob</key>
	<data>
	AAEC
	Aw==
	</data>
</dict>
</plist>`;
    expect(parsePlist(xml)).toEqual({
      'A & B': 'R&D <card> é',
      Empty: '',
      Space: ' ',
      List: [-3, 1.5, [], {}, true],
      Nothing: [],
      Blob: 'AAECAw==',
    });
  });

  it('refuses output that is not a property list, and half a property list', () => {
    expect(() => parsePlist('Could not find disk: disk9')).toThrow(/unreadable property list/);
    expect(() => parsePlist('<plist version="1.0"><dict><key>A</key><string>x</string>')).toThrow(
      /unreadable property list/,
    );
    expect(() => parsePlist('<plist><dict><string>no key</string></dict></plist>')).toThrow(
      /unreadable property list \(Missing key/,
    );
  });
});

describe('device names', () => {
  it('maps raw and plain nodes and identifiers to the node diskutil takes', () => {
    expect(diskutilTarget('/dev/rdisk4')).toBe('/dev/disk4');
    expect(diskutilTarget('disk4')).toBe('/dev/disk4');
    expect(diskutilTarget('/dev/disk4s1')).toBe('/dev/disk4s1');
    expect(diskutilTarget('disk1s5s1')).toBe('/dev/disk1s5s1');
  });

  it('refuses anything that is not a macOS disk, before running anything', () => {
    for (const bad of ['/dev/sdc', '/etc/passwd', 'disk4; rm -rf /', '-plist', '/dev/disk']) {
      expect(() => diskutilTarget(bad), bad).toThrow(/not a macOS disk/);
    }
  });
});

describe('diskutil failures (through the test double)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'atlas-diskutil-unit-'));
  const map = join(dir, 'map.json');
  writeFileSync(map, JSON.stringify({ disk4: '/dev/loop999' }));
  const opts = { platform: 'darwin' as const, diskutil: DOUBLE };

  it('a disk that is not there is not-found, for info, unmountDisk and eject', async () => {
    process.env.ATLAS_DISKUTIL_DOUBLE_MAP = map;
    try {
      const i = await failure(info('/dev/disk9', opts));
      expect(i.code).toBe('not-found');
      expect(i.message).toBe('Could not find disk: /dev/disk9');
      // disk4 is mapped, but to a loop device that is not attached: the card was pulled.
      const u = await failure(unmountDisk('/dev/disk4', opts));
      expect(u.code).toBe('not-found');
      expect(u.hint).toMatch(/\/dev\/disk4 is gone/);
      const e = await failure(eject('disk4', opts));
      expect(e.code).toBe('not-found');
    } finally {
      delete process.env.ATLAS_DISKUTIL_DOUBLE_MAP;
    }
  });

  it('a diskutil that cannot be run is missing-tool', async () => {
    const e = await failure(info('/dev/disk4', { diskutil: join(dir, 'no-such-diskutil') }));
    expect(e.code).toBe('missing-tool');
  });
});
