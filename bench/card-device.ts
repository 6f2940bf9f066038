/**
 * A stand-in SD card for the benchmark: an image file on a loop device, throttled with the blkio
 * cgroup to a card reader's speed (default 90 MB/s read, 30 MB/s write), with the device's own
 * I/O counters (/sys/block/loopN/stat) to count the bytes that crossed the "card reader".
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { loadavg } from 'node:os';

const THROTTLE = '/sys/fs/cgroup/blkio';

export interface IoCounters {
  readBytes: number;
  writtenBytes: number;
}

export class CardDevice {
  readonly device: string;
  private readonly majMin: string;

  constructor(
    readonly backingFile: string,
    readonly speeds: { readBps: number; writeBps: number },
  ) {
    this.device = execFileSync('losetup', ['--find', '--show', backingFile], { encoding: 'utf8' }).trim();
    this.majMin = readFileSync(`/sys/block/${basename(this.device)}/dev`, 'utf8').trim();
    this.throttle(speeds.readBps, speeds.writeBps);
  }

  /** Applies (or with 0, removes) the read/write limit for this device, for every process. */
  throttle(readBps: number, writeBps: number): void {
    try {
      writeFileSync(`${THROTTLE}/blkio.throttle.read_bps_device`, `${this.majMin} ${readBps}`);
      writeFileSync(`${THROTTLE}/blkio.throttle.write_bps_device`, `${this.majMin} ${writeBps}`);
    } catch (e) {
      if (readBps > 0)
        throw new Error(`cannot throttle ${this.device} (needs root and the blkio cgroup): ${String(e)}`);
    }
  }

  /** Bytes read from and written to the device since it was attached (512-byte sectors). */
  counters(): IoCounters {
    const f = readFileSync(`/sys/block/${basename(this.device)}/stat`, 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    return { readBytes: f[2]! * 512, writtenBytes: f[6]! * 512 };
  }

  /** Empties every cache so the next read really comes from the card. */
  dropCaches(): void {
    execFileSync('sync');
    execFileSync('blockdev', ['--flushbufs', this.device]);
    writeFileSync('/proc/sys/vm/drop_caches', '3');
  }

  release(): void {
    this.throttle(0, 0);
    execFileSync('losetup', ['-d', this.device]);
  }
}

export interface Measured<T> {
  seconds: number;
  read: number;
  written: number;
  /** The machine's 1-minute load average, sampled every second: the highest seen. */
  load: number;
  result: T;
}

/** Measures a step: wall time, the bytes it moved across the card, and the machine's load meanwhile. */
export async function measure<T>(card: CardDevice, fn: () => Promise<T> | T): Promise<Measured<T>> {
  card.dropCaches();
  const before = card.counters();
  let load = loadavg()[0]!;
  const sampler = setInterval(() => (load = Math.max(load, loadavg()[0]!)), 1000);
  const t0 = process.hrtime.bigint();
  try {
    const result = await fn();
    execFileSync('sync');
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const after = card.counters();
    return {
      seconds,
      read: after.readBytes - before.readBytes,
      written: after.writtenBytes - before.writtenBytes,
      load,
      result,
    };
  } finally {
    clearInterval(sampler);
  }
}

/** Bytes in use on an Armbian-shaped card: the table and gap, FAT32 used clusters, ext4 used blocks. */
export function usedBytes(device: string): number {
  const read = (cmd: string[]) => execFileSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' });
  const table = JSON.parse(read(['sfdisk', '--json', device])).partitiontable.partitions as Array<{
    start: number;
    size: number;
  }>;
  let used = 8192 * 512; // the table and the gap before partition 1
  const loop = (p: { start: number; size: number }) =>
    read([
      'losetup',
      '--find',
      '--show',
      '--read-only',
      '--offset',
      String(p.start * 512),
      '--sizelimit',
      String(p.size * 512),
      device,
    ]).trim();
  const boot = loop(table[0]!);
  const free = /([\d ]+) bytes free/.exec(read(['mdir', '-i', boot, '::']))?.[1]?.replace(/ /g, '');
  used += table[0]!.size * 512 - Number(free);
  execFileSync('losetup', ['-d', boot]);
  const root = loop(table[1]!);
  const h = read(['dumpe2fs', '-h', root]);
  const n = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(h)?.[1]);
  used += (n('Block count') - n('Free blocks')) * n('Block size');
  execFileSync('losetup', ['-d', root]);
  return used;
}
