// Range arithmetic of the used-block map, and the bit-per-block map it is built from.
import { describe, expect, it } from 'vitest';
import {
  alignRanges,
  chunks,
  clipRanges,
  gapsIn,
  mergeRanges,
  totalBytes,
  UnitBitmap,
} from '../../src-main/core/rawio/used-blocks/byte-ranges.js';

const r = (start: number, end: number) => ({ start, end });

describe('byte ranges', () => {
  it('merges overlapping and touching ranges, sorted, without empty ones', () => {
    expect(mergeRanges([r(50, 60), r(0, 10), r(10, 20), r(15, 18), r(30, 30), r(59, 70)])).toEqual([
      r(0, 20),
      r(50, 70),
    ]);
  });

  it('widens to the alignment, clamps to the card and merges what now touches', () => {
    expect(alignRanges([r(100, 200), r(4000, 4100), r(9000, 9001)], 4096, 10_000)).toEqual([r(0, 10_000)]);
    expect(alignRanges([r(100, 200), r(9000, 9001)], 4096, 10_000)).toEqual([r(0, 4096), r(8192, 10_000)]);
    expect(alignRanges([r(5000, 5001)], 65536, 1 << 20)).toEqual([r(0, 65536)]);
    expect(alignRanges([r(70_000, 70_001)], 4096, 1 << 20)).toEqual([r(69_632, 73_728)]);
  });

  it('finds the gaps between covered ranges', () => {
    expect(gapsIn(0, 100, [r(10, 20), r(30, 40)])).toEqual([r(0, 10), r(20, 30), r(40, 100)]);
    expect(gapsIn(15, 35, [r(10, 20), r(30, 40)])).toEqual([r(20, 30)]);
    expect(gapsIn(0, 10, [])).toEqual([r(0, 10)]);
    expect(gapsIn(0, 10, [r(0, 10)])).toEqual([]);
  });

  it('clips, totals and cuts into bounded chunks', () => {
    expect(clipRanges([r(0, 10), r(20, 30)], 5, 25)).toEqual([r(5, 10), r(20, 25)]);
    expect(totalBytes([r(0, 10), r(20, 25)])).toBe(15);
    expect([...chunks([r(0, 10), r(20, 23)], 4)]).toEqual([r(0, 4), r(4, 8), r(8, 10), r(20, 23)]);
  });
});

describe('UnitBitmap', () => {
  it('turns set units into runs and byte ranges, across byte boundaries and at the end', () => {
    const b = new UnitBitmap(40);
    b.set(0);
    b.setRange(5, 20); // 5..24, crossing whole bytes
    b.set(39);
    b.set(40); // past the end: ignored
    expect([...b.runs()]).toEqual([r(0, 1), r(5, 25), r(39, 40)]);
    expect(b.count()).toBe(22);
    expect(b.has(24)).toBe(true);
    expect(b.has(25)).toBe(false);
    expect(b.toByteRanges(4096, 1000)).toEqual([
      r(1000, 1000 + 4096),
      r(1000 + 5 * 4096, 1000 + 25 * 4096),
      r(1000 + 39 * 4096, 1000 + 40 * 4096),
    ]);
  });

  it('handles a full map whose size is not a multiple of 8', () => {
    const b = new UnitBitmap(13);
    b.setRange(0, 13);
    expect([...b.runs()]).toEqual([r(0, 13)]);
  });
});
