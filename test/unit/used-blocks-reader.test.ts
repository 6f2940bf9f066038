// Reads of the maps go to the card in whole 512-byte sectors: raw disk devices (macOS /dev/rdiskN)
// refuse anything else. A handle that refuses unaligned reads must map a card all the same.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scratch } from '../helpers/fixtures.js';
import { MiB } from '../helpers/used-card.js';
import { handleReader } from '../../src-main/core/rawio/used-blocks/byte-reader.js';
import { mapCard } from '../../src-main/core/rawio/used-blocks/used-ranges.js';

/** The real handle, refusing reads that do not start and end on a sector, like a raw device. */
function rawDevice(fh: FileHandle, log: Array<[number, number]>): FileHandle {
  return new Proxy(fh, {
    get(t, prop, recv) {
      if (prop === 'read') {
        return (buf: Buffer, off: number, len: number, pos: number) => {
          log.push([pos, len]);
          if (pos % 512 !== 0 || len % 512 !== 0) {
            return Promise.reject(Object.assign(new Error('EINVAL: unaligned read'), { code: 'EINVAL' }));
          }
          return t.read(buf, off, len, pos);
        };
      }
      const v = Reflect.get(t, prop, recv);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  }) as FileHandle;
}

describe('handleReader', () => {
  it('maps FAT12 and an ext3 with 1 KiB blocks through sector-aligned reads only', async () => {
    const dir = scratch('reader');
    const p = join(dir, 'card.img');
    writeFileSync(p, '');
    execFileSync('truncate', ['-s', String(64 * MiB), p]);
    execFileSync('sfdisk', ['-q', p], {
      input: 'label: dos\nstart=2048, size=8192, type=1\nstart=10240, size=120832, type=83\n',
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    execFileSync('mkfs.vfat', ['-F', '12', '--offset=2048', p, String(8192 / 2)], { stdio: 'ignore' });
    execFileSync(
      'mkfs.ext4',
      ['-q', '-F', '-t', 'ext3', '-b', '1024', '-E', `offset=${10240 * 512}`, p, String(120832 / 2)],
      {
        stdio: 'pipe',
      },
    );
    const fh = await open(p, 'r');
    try {
      const plain = await mapCard(handleReader(fh, 64 * MiB));
      const log: Array<[number, number]> = [];
      const raw = await mapCard(handleReader(rawDevice(fh, log), 64 * MiB));
      expect(raw).toEqual(plain);
      expect(raw.partitions.map((q) => q.fs)).toEqual(['fat12', 'ext3']);
      expect(log.length).toBeGreaterThan(5);
    } finally {
      await fh.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
