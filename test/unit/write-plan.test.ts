// The write plan: what is made invalid before a card is written, and how the raw-disk helper
// checks a plan it is sent (it never maps an image itself).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkPlan, invalidationRanges, type WritePlan } from '../../src-main/core/write/write-plan.js';
import { parseRequest, planOf } from '../../src-main/privileged/raw-disk-helper.js';

const MiB = 1024 * 1024;
const CARD = 64 * MiB;
const BIG_CARD = 16 * 1024 * MiB;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return `${(e as { code: string }).code}: ${(e as Error).message}`;
  }
  return 'accepted';
};

describe('invalidationRanges', () => {
  it('covers the first MiB, the old backup GPT and the head of every new partition, merged', () => {
    expect(invalidationRanges(CARD, [{ start: MiB }, { start: 8 * MiB }])).toEqual([
      { start: 0, end: MiB + 64 * 1024 },
      { start: 8 * MiB, end: 8 * MiB + 64 * 1024 },
      { start: CARD - 33 * 512, end: CARD },
    ]);
  });

  it('ignores partitions that start past the card or off a sector', () => {
    expect(invalidationRanges(CARD, [{ start: CARD + MiB }, { start: 3 * MiB + 7 }])).toEqual([
      { start: 0, end: MiB },
      { start: CARD - 33 * 512, end: CARD },
    ]);
  });
});

describe('any valid table gives a plan that is accepted', () => {
  /** `count` partitions of `size` bytes, one after the other from 1 MiB (a GPT's usual start). */
  const table = (count: number, size: number) =>
    Array.from({ length: count }, (_, i) => ({ start: MiB + i * size }));
  const covers = (ranges: Array<{ start: number; end: number }>, at: number, length: number) =>
    ranges.some((r) => r.start <= at && at + length <= r.end);

  it.each([
    ['300 partitions of 64 KiB, side by side (their heads are one long range)', 300, 64 * 1024],
    ['300 partitions of 1 MiB (more heads than a plan held before)', 300, MiB],
    ['8192 partitions of 1 MiB (a full 1 MiB GPT entry array)', 8192, MiB],
    ['8192 partitions of 512 bytes', 8192, 512],
  ])('%s', (_name, count, size) => {
    const parts = table(count, size);
    const plan: WritePlan = { invalidate: invalidationRanges(BIG_CARD, parts), verify: true };
    expect(refusal(() => checkPlan(plan, BIG_CARD, BIG_CARD))).toBe('accepted');
    // Every partition's boot sector and superblock, and the old backup GPT, are still made invalid.
    for (const p of parts) expect(covers(plan.invalidate, p.start, Math.min(size, 4096))).toBe(true);
    expect(covers(plan.invalidate, BIG_CARD - 33 * 512, 33 * 512)).toBe(true);
    expect(covers(plan.invalidate, 0, MiB)).toBe(true);
  });

  it('a refused plan built for a write says nothing of the raw-disk helper; a refused request does', () => {
    const plan: WritePlan = { invalidate: [{ start: 512, end: MiB }], verify: true };
    const hint = (origin?: 'plan' | 'request') => {
      try {
        checkPlan(plan, MiB, CARD, origin);
      } catch (e) {
        return (e as { hint: string }).hint;
      }
      return 'accepted';
    };
    expect(hint()).toMatch(/nothing was written/);
    expect(hint()).not.toMatch(/helper/);
    expect(hint('request')).toMatch(/raw-disk helper/);
  });
});

describe('checkPlan', () => {
  const base: WritePlan = { invalidate: invalidationRanges(CARD, []), verify: true };

  it('accepts a plan inside the image and the card', () => {
    const plan: WritePlan = {
      ...base,
      ranges: [
        { start: 0, end: 2 * MiB, checksum: sha('a') },
        { start: 4 * MiB, end: 5 * MiB },
      ],
      checksumType: 'sha256',
    };
    expect(refusal(() => checkPlan(plan, 32 * MiB, CARD))).toBe('accepted');
  });

  it('refuses invalidated areas of more than 64 MiB together (their image bytes are held in memory)', () => {
    const plan: WritePlan = { invalidate: [{ start: 0, end: 65 * MiB }], verify: true };
    expect(refusal(() => checkPlan(plan, 32 * MiB, BIG_CARD))).toMatch(/add up to 68157440 bytes/);
  });

  it.each([
    [
      'overlapping ranges',
      {
        ranges: [
          { start: 0, end: 2 * MiB },
          { start: MiB, end: 3 * MiB },
        ],
      },
      /overlaps/,
    ],
    ['a range past the image', { ranges: [{ start: 30 * MiB, end: 33 * MiB }] }, /past the end/],
    ['an empty range', { ranges: [{ start: MiB, end: MiB }] }, /not a range/],
    ['no first MiB', { invalidate: [{ start: 512, end: MiB }] }, /first MiB/],
    [
      'invalidation past the card',
      {
        invalidate: [
          { start: 0, end: MiB },
          { start: CARD, end: CARD + 512 },
        ],
      },
      /past the end/,
    ],
    [
      'a malformed checksum',
      { ranges: [{ start: 0, end: MiB, checksum: 'abc' }], checksumType: 'sha256' as const },
      /malformed checksum/,
    ],
    ['a checksum without a type', { ranges: [{ start: 0, end: MiB, checksum: sha('a') }] }, /checksum type/],
  ])('refuses %s', (_name, change, message) => {
    const plan = { ...base, ...change } as WritePlan;
    const r = refusal(() => checkPlan(plan, 32 * MiB, CARD));
    expect(r).toMatch(/^bad-input: invalid write plan/);
    expect(r).toMatch(message);
  });
});

describe('the raw-disk helper receives the plan', () => {
  const req = {
    op: 'write',
    device: '/dev/sdc',
    expect: { bytes: CARD },
    source: '/work/x.img',
    verify: true,
  };

  it('parses ranges with checksums, and always adds the first MiB and the end of the card', () => {
    const parsed = parseRequest(
      JSON.stringify({
        ...req,
        invalidate: [[8 * MiB, 8 * MiB + 65536]],
        ranges: [
          [0, MiB, sha('a')],
          [8 * MiB, 9 * MiB],
        ],
        checksumType: 'sha256',
        minBytes: 9 * MiB,
      }),
      'linux',
    );
    if (parsed.op !== 'write') throw new Error('not a write');
    expect(planOf(parsed, CARD)).toEqual({
      invalidate: [
        { start: 0, end: MiB },
        { start: 8 * MiB, end: 8 * MiB + 65536 },
        { start: CARD - 33 * 512, end: CARD },
      ],
      ranges: [
        { start: 0, end: MiB, checksum: sha('a') },
        { start: 8 * MiB, end: 9 * MiB },
      ],
      checksumType: 'sha256',
      minBytes: 9 * MiB,
      verify: true,
    });
    const bare = parseRequest(JSON.stringify(req), 'linux');
    if (bare.op !== 'write') throw new Error('not a write');
    expect(planOf(bare, CARD).invalidate).toEqual([
      { start: 0, end: MiB },
      { start: CARD - 33 * 512, end: CARD },
    ]);
  });

  it.each([
    ['ranges that are not pairs', { ranges: [[0]] }, /not a \[start, end\] pair/],
    ['a range ending before it starts', { ranges: [[MiB, 0]] }, /not a \[start, end\] pair/],
    ['a negative offset', { invalidate: [[-512, 0]] }, /not a \[start, end\] pair/],
    ['a checksum on an invalidated range', { invalidate: [[0, MiB, sha('a')]] }, /not a \[start, end\] pair/],
    ['an unknown checksum type', { checksumType: 'md5' }, /checksumType: must be one of sha256, sha1/],
    ['a zero minBytes', { minBytes: 0 }, /minBytes: out of range/],
    ['the old mapped flag', { mapped: true }, /unknown field "mapped"/],
  ])('refuses %s', (_name, extra, message) => {
    expect(refusal(() => parseRequest(JSON.stringify({ ...req, ...extra }), 'linux'))).toMatch(message);
  });
});
