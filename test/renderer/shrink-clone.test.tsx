// @vitest-environment jsdom
// Verify + Shrink: the checklist as ticks and crosses with evidence, shrinking only after it
// passed (or when forced). Clone: the next safety-net name is suggested from the newest set.
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ShrinkScreen } from '../../src-renderer/components/shrink-screen';
import { CloneScreen } from '../../src-renderer/components/clone-screen';
import { useStore } from '../../src-renderer/store/store';
import type { CardCandidate, VerifyReportDto } from '../../src-main/common/contract';
import { installFakeAtlas, type FakeAtlas } from './fake-atlas';
import { connect } from './setup';

const card: CardCandidate = {
  ref: { path: '/Users/me/cards/dev-card.img', kind: 'file', bytes: 8e9, node: 77 },
  description: 'image file /Users/me/cards/dev-card.img (8.0 GB)',
  removable: true,
  readOnly: false,
  usable: true,
  reasons: [],
};

const REPORT: VerifyReportDto = {
  card: card.ref.path,
  title: 'Phase 1 verification checklist (run BEFORE shrink)',
  ok: false,
  failed: 1,
  warnings: 0,
  checks: [
    {
      id: 'phase',
      label: 'Phase',
      ok: true,
      severity: 'error',
      expected: '2 (Phase 1 ran)',
      evidence: ['/var/lib/ods/phase = "2"'],
    },
    {
      id: 'machine-id',
      label: 'Machine-ID',
      ok: false,
      severity: 'error',
      expected: 'cleared',
      evidence: ['/etc/machine-id is 33 B (at most 1 B)'],
    },
  ],
};

/** The shrink screen with `card` picked and its verify job ended with `report`. */
async function verified(report: VerifyReportDto, beforeDone?: (fake: FakeAtlas) => void) {
  const fake = installFakeAtlas();
  connect();
  render(<ShrinkScreen />);
  await act(async () => useStore.getState().setShrinkCard(card));
  beforeDone?.(fake);
  act(() =>
    fake.job({
      type: 'done',
      jobId: 'job-verify',
      endedAt: new Date().toISOString(),
      outcome: { kind: 'verify', result: report },
    }),
  );
  return fake;
}

describe('ShrinkScreen', () => {
  it('verifies the picked card and shows every check with its evidence', async () => {
    await verified(REPORT, (f) =>
      expect(f.callsOf('jobs:start')).toEqual([[{ kind: 'verify', card: card.ref.path }]]),
    );
    const list = screen.getByRole('list', { name: REPORT.title });
    expect(list.querySelectorAll('[aria-label="passed"]')).toHaveLength(1);
    expect(list.querySelectorAll('[aria-label="failed"]')).toHaveLength(1);
    expect(list.textContent).toContain('NOT cleared');
    expect(list.textContent).toContain('/etc/machine-id is 33 B (at most 1 B)');
    expect(screen.getByText(/1 check failed: finish Phase 1 on the device first/)).toBeTruthy();
  });

  it('shrinks only after the checklist passed, or when the user forces it', async () => {
    const fake = await verified(REPORT);
    await waitFor(() =>
      expect(screen.getByTestId('output-name').textContent).toBe('ods-atlas-clone-v9-1-8-FLASH.img'),
    );
    const shrink = screen.getByRole('button', { name: 'Shrink to image' }) as HTMLButtonElement;
    expect(shrink.disabled).toBe(true);
    fireEvent.click(screen.getByLabelText(/Shrink anyway/));
    expect(shrink.disabled).toBe(false);
    await act(async () => fireEvent.click(shrink));
    expect(fake.callsOf('jobs:start').at(-1)).toEqual([
      { kind: 'shrink', card: card.ref.path, version: '9.1.8', tag: 'FLASH', force: true },
    ]);
  });

  it('offers a compressed distributable, names it, shrinks to it and shows each resize2fs pass', async () => {
    const fake = await verified({ ...REPORT, ok: true, failed: 0 });
    await waitFor(() =>
      expect(screen.getByTestId('output-name').textContent).toBe('ods-atlas-clone-v9-1-8-FLASH.img'),
    );
    await act(async () => fireEvent.click(screen.getByLabelText(/Distributable \.img\.zst/)));
    await waitFor(() =>
      expect(screen.getByTestId('output-name').textContent).toBe('ods-atlas-clone-v9-1-8-FLASH.img.zst'),
    );
    expect(fake.callsOf('names:plan').at(-1)).toEqual([
      { kind: 'clone-image', version: '9.1.8', tag: 'FLASH', compress: 'zst' },
    ]);
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Shrink to image' })));
    const req = fake.callsOf('jobs:start').at(-1)![0] as { kind: string; compress?: string };
    expect(req).toEqual({
      kind: 'shrink',
      card: card.ref.path,
      version: '9.1.8',
      tag: 'FLASH',
      force: false,
      compress: 'zst',
    });
    const image = '/Users/me/atlas-build/ods-atlas-clone-v9-1-8-FLASH.img.zst';
    const jobId = useStore.getState().shrink.shrinkJobId!;
    act(() =>
      fake.job({
        type: 'done',
        jobId,
        endedAt: new Date().toISOString(),
        outcome: {
          kind: 'shrink',
          result: {
            image,
            manifest: `${image}.manifest.json`,
            bmap: '/Users/me/atlas-build/ods-atlas-clone-v9-1-8-FLASH.img.bmap',
            readBytes: 1e9,
            bytes: 3e8,
            sha256: 'ab'.repeat(32),
            rootStart: 1056768,
            rootSectors: 500000,
            fsBlocks: 59616,
            fsMinBlocks: 59616,
            blockSize: 4096,
            passes: [
              { pass: 1, before: 7000000, after: 100339, gained: 6899661 },
              { pass: 2, before: 100339, after: 59616, gained: 40723 },
            ],
            resizeService: 're-enabled',
            checklist: { ...REPORT, ok: true, failed: 0 },
            compression: 'zst',
            sha256File: `${image}.sha256`,
            imageBytes: 8e8,
            imageSha256: 'cd'.repeat(32),
            zeroed: true,
          },
        },
      }),
    );
    const passes = await screen.findByRole('list', { name: 'resize2fs passes' });
    expect(passes.textContent).toContain('pass 2: 100339 → 59616 blocks (gained 40723)');
    expect(screen.getByText(`${image}.sha256`)).toBeTruthy();
  });
});

describe('CloneScreen', () => {
  it('suggests the safety-net name after the newest set and clones the picked card under it', async () => {
    const fake = installFakeAtlas({
      'names:suggest': () => ({
        golden: { version: '9.1.8', tag: 'ORIGIN' },
        cloneImage: { version: '9.1.8', tag: 'FLASH' },
        lastSet: 'v8-0-6-FLASH',
        lastSetTag: 'FLASH',
      }),
      'names:next-set': (tag) => ({ previous: 'v8-0-6-FLASH', next: `v8-0-7-${tag}` }),
    });
    connect();
    render(<CloneScreen />);
    await waitFor(() =>
      expect((screen.getByLabelText('Clone set name') as HTMLInputElement).value).toBe('v8-0-7-FLASH'),
    );
    expect(screen.getByText('Suggested after the newest set, v8-0-6-FLASH.')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Clone tag'), { target: { value: 'FEATURE' } });
    await waitFor(() =>
      expect((screen.getByLabelText('Clone set name') as HTMLInputElement).value).toBe('v8-0-7-FEATURE'),
    );
    act(() => useStore.getState().setCloneCard(card));
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Clone card' })));
    expect(fake.callsOf('jobs:start')).toEqual([[{ kind: 'clone', card: card.ref, name: 'v8-0-7-FEATURE' }]]);
  });
});
