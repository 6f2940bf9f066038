/**
 * A stand-in SD card for the benchmark: an image file on a loop device, throttled with the blkio
 * cgroup to a card reader's speed (default 90 MB/s read, 30 MB/s write), with the device's own
 * I/O counters (/sys/block/loopN/stat) to count the bytes that crossed the "card reader".
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';

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

/** Measures a step: wall time and the bytes it moved across the card. */
export async function measure<T>(
  card: CardDevice,
  fn: () => Promise<T> | T,
): Promise<{ seconds: number; read: number; written: number; result: T }> {
  card.dropCaches();
  const before = card.counters();
  const t0 = process.hrtime.bigint();
  const result = await fn();
  execFileSync('sync');
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const after = card.counters();
  return {
    seconds,
    read: after.readBytes - before.readBytes,
    written: after.writtenBytes - before.writtenBytes,
    result,
  };
}
