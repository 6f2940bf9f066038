/**
 * Byte ranges on a card or in an image: half-open [start, end) intervals in bytes. The used-block
 * map, the sparse copy and the .bmap writer all speak in lists of these, kept sorted and merged.
 */
export interface ByteRange {
  start: number;
  end: number;
}

/** Sorts, drops empty ranges and merges overlapping or touching ones. */
export function mergeRanges(ranges: readonly ByteRange[]): ByteRange[] {
  const sorted = ranges.filter((r) => r.end > r.start).sort((a, b) => a.start - b.start || a.end - b.end);
  const out: ByteRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else out.push({ start: r.start, end: r.end });
  }
  return out;
}

/** Widens every range to `align` boundaries (a power of two), clamps to [0, limit) and merges. */
export function alignRanges(ranges: readonly ByteRange[], align: number, limit: number): ByteRange[] {
  return mergeRanges(
    ranges.map((r) => ({
      start: Math.max(0, Math.floor(r.start / align) * align),
      end: Math.min(limit, Math.ceil(r.end / align) * align),
    })),
  );
}

/** The parts of [start, end) not covered by `covered` (which must be merged). */
export function gapsIn(start: number, end: number, covered: readonly ByteRange[]): ByteRange[] {
  const out: ByteRange[] = [];
  let at = start;
  for (const r of covered) {
    if (r.end <= at) continue;
    if (r.start >= end) break;
    if (r.start > at) out.push({ start: at, end: r.start });
    at = Math.max(at, r.end);
  }
  if (at < end) out.push({ start: at, end });
  return out;
}

/** The parts of `ranges` inside [start, end). */
export function clipRanges(ranges: readonly ByteRange[], start: number, end: number): ByteRange[] {
  const out: ByteRange[] = [];
  for (const r of ranges) {
    const s = Math.max(r.start, start);
    const e = Math.min(r.end, end);
    if (e > s) out.push({ start: s, end: e });
  }
  return out;
}

export function shiftRanges(ranges: readonly ByteRange[], by: number): ByteRange[] {
  return ranges.map((r) => ({ start: r.start + by, end: r.end + by }));
}

export function totalBytes(ranges: readonly ByteRange[]): number {
  return ranges.reduce((sum, r) => sum + (r.end - r.start), 0);
}

/** Splits ranges into pieces of at most `max` bytes (for bounded reads and writes). */
export function* chunks(ranges: readonly ByteRange[], max: number): Generator<ByteRange> {
  for (const r of ranges) {
    for (let s = r.start; s < r.end; s += max) yield { start: s, end: Math.min(r.end, s + max) };
  }
}

/**
 * A bit per allocation unit (file system block or cluster), turned into byte ranges. Runs are
 * found a byte at a time where possible: free space and full areas are long runs of 0x00 / 0xff.
 */
export class UnitBitmap {
  readonly bits: Uint8Array;

  constructor(readonly units: number) {
    this.bits = new Uint8Array(Math.ceil(units / 8));
  }

  set(unit: number): void {
    if (unit >= 0 && unit < this.units) this.bits[unit >> 3]! |= 1 << (unit & 7);
  }

  setRange(first: number, count: number): void {
    const end = Math.min(this.units, first + count);
    for (let u = Math.max(0, first); u < end; u++) {
      if ((u & 7) === 0 && u + 8 <= end) {
        this.bits[u >> 3] = 0xff;
        u += 7;
      } else {
        this.bits[u >> 3]! |= 1 << (u & 7);
      }
    }
  }

  has(unit: number): boolean {
    return unit >= 0 && unit < this.units && (this.bits[unit >> 3]! & (1 << (unit & 7))) !== 0;
  }

  count(): number {
    let n = 0;
    for (const r of this.runs()) n += r.end - r.start;
    return n;
  }

  /** Runs of set units, as [first, end) unit numbers. */
  *runs(): Generator<ByteRange> {
    let runStart = -1;
    const bytes = this.bits;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (b === 0xff && runStart >= 0 && (i + 1) * 8 <= this.units) continue;
      if (b === 0 && runStart < 0) continue;
      for (let bit = 0; bit < 8; bit++) {
        const u = i * 8 + bit;
        if (u >= this.units) break;
        const on = (b & (1 << bit)) !== 0;
        if (on && runStart < 0) runStart = u;
        else if (!on && runStart >= 0) {
          yield { start: runStart, end: u };
          runStart = -1;
        }
      }
    }
    if (runStart >= 0) yield { start: runStart, end: this.units };
  }

  /** The set units as byte ranges, each unit `unitBytes` long, starting at byte `origin`. */
  toByteRanges(unitBytes: number, origin = 0): ByteRange[] {
    const out: ByteRange[] = [];
    for (const r of this.runs())
      out.push({ start: origin + r.start * unitBytes, end: origin + r.end * unitBytes });
    return out;
  }
}
