// The IPC layer passes the core's data as it is (the types are src-main/common's), except where it
// drops what the renderer must not get: an inspection's manifest, a card's reader flags.
import { describe, expect, it } from 'vitest';
import { toRef } from '../../src-main/app/card-checks.js';
import { toInspectionDto } from '../../src-main/app/job-specs.js';
import type { CardIdentity, Inspection } from '../../src-main/common/cards.js';
import type { Manifest } from '../../src-main/common/artifacts.js';

describe('what the IPC layer copies', () => {
  it('toInspectionDto copies every field of an inspection but its manifest', () => {
    const inspection: Required<Inspection> = {
      path: '/dev/sdz',
      kind: 'device',
      compression: 'none',
      bytes: 64 * 2 ** 30,
      table: 'dos',
      partitions: [
        {
          number: 2,
          start: 532480,
          sectors: 4194304,
          bytes: 4194304 * 512,
          type: '83',
          fs: 'ext4',
          label: 'armbi_root',
          usedBytes: 1_500_000_000,
        },
      ],
      state: 'golden',
      stateText: 'Phase 0 golden image',
      payloadPresent: true,
      armbianLayout: true,
      truncated: false,
      problems: [],
      artifact: { kind: 'golden-image', phase: 0, version: '9.1.7', tag: 'ORIGIN', name: 'x' },
      manifest: { kind: 'golden-image' } as Manifest,
    };
    const dto = toInspectionDto(inspection);
    // toEqual takes an undefined property for a missing one.
    expect(dto).toEqual({ ...inspection, manifest: undefined });
    expect(dto).not.toHaveProperty('manifest');
    expect(dto.partitions[0]).not.toBe(inspection.partitions[0]);
  });

  it('toRef copies every field of a card identity but the reader flags', () => {
    const card: Required<CardIdentity> = {
      path: '/dev/sdz',
      kind: 'device',
      bytes: 32 * 2 ** 30,
      node: 2080,
      model: 'SD Reader',
      serial: '0123',
      removable: true,
      readOnly: false,
      medium: 'seq:7 mmc:0353445353433332',
      table: 'dos:1234abcd',
    };
    const ref = toRef(card);
    expect(ref).toEqual({ ...card, removable: undefined, readOnly: undefined });
    expect(ref).not.toHaveProperty('removable');
    expect(ref).not.toHaveProperty('readOnly');
  });
});
