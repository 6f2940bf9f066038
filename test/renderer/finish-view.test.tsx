// @vitest-environment jsdom
// The end of a flash, restore or erase: each card's result, whether it was ejected, then
// "another" (the same source, new cards) or "done".
import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { FlashScreen } from '../../src-renderer/components/flash-screen';
import { ErasePanel } from '../../src-renderer/components/erase-panel';
import { CloneScreen } from '../../src-renderer/components/clone-screen';
import { useStore } from '../../src-renderer/store/store';
import type { CardCandidate, CardRef, JobOutcome } from '../../src-main/common/contract';
import { installFakeAtlas, type FakeAtlas } from './fake-atlas';
import { connect } from './setup';

const GOLDEN = '/Users/me/atlas-build/ods-atlas-golden-v9-1-7-ORIGIN.img';
const card4: CardRef = { path: '/dev/disk4', kind: 'device', bytes: 32e9, node: 4 };
const card6: CardRef = { path: '/dev/disk6', kind: 'device', bytes: 16e9, node: 6 };
const candidate = (ref: CardRef, model: string): CardCandidate => ({
  ref,
  description: `${ref.path} ${model} (${ref.bytes / 1e9} GB)`,
  removable: true,
  readOnly: false,
  usable: true,
  reasons: [],
});
const readers = [candidate(card4, 'SanDisk Extreme'), candidate(card6, 'Kingston Canvas')];

function done(fake: FakeAtlas, jobId: string, outcome: JobOutcome) {
  act(() => fake.job({ type: 'done', jobId, endedAt: new Date().toISOString(), outcome }));
}

describe('the finish screen', () => {
  it('after a flash: each card by name with its result and whether it was ejected; flash another keeps the image', async () => {
    const fake = installFakeAtlas({
      'cards:list': () => readers,
      'flash:check': (_image, cards) => cards.map((c) => ({ card: c, usable: true, reasons: [] })),
    });
    connect();
    render(<FlashScreen />);
    await screen.findByText(/SanDisk Extreme/);
    await act(async () => useStore.getState().setFlashImage(GOLDEN));
    await act(async () => useStore.getState().toggleFlashTarget(readers[0]!));
    await act(async () => useStore.getState().toggleFlashTarget(readers[1]!));
    await act(async () => useStore.getState().startFlash());
    done(fake, 'job-flash', {
      kind: 'flash',
      result: {
        image: GOLDEN,
        imageBytes: 2.1e9,
        mode: 'bmap',
        mappedBytes: 9e8,
        failed: 1,
        cards: [
          {
            card: '/dev/disk4',
            ok: true,
            writtenBytes: 9e8,
            verified: true,
            eject: { ejected: true, message: 'ejected' },
          },
          { card: '/dev/disk6', ok: false, error: { code: 'verify-failed', message: 'read-back differs' } },
        ],
      },
    });
    const finish = screen.getByRole('region', { name: /flashed to 1 of 2 cards/ });
    expect(within(finish).getByText('1 failed')).toBeTruthy();
    const rows = within(finish)
      .getAllByRole('listitem')
      .map((li) => li.textContent);
    expect(rows[0]).toContain('/dev/disk4 SanDisk Extreme (32 GB)');
    expect(rows[0]).toContain('Written and verified');
    expect(rows[0]).toContain('Ejected: you can remove it.');
    expect(rows[1]).toContain('/dev/disk6 Kingston Canvas (16 GB)');
    expect(rows[1]).toContain('read-back differs');
    expect(rows[1]).toContain('Not ejected');
    // The picker is gone while the result is shown.
    expect(screen.queryByRole('group', { name: 'Cards to flash' })).toBeNull();

    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Flash another' })));
    expect(screen.queryByRole('region', { name: /flashed to/ })).toBeNull();
    expect(useStore.getState().flash.image).toBe(GOLDEN);
    expect(useStore.getState().flash.targets).toEqual([]);
    expect(screen.getByRole('group', { name: 'Cards to flash' })).toBeTruthy();
  });

  it('after an erase: the card, ejected or not; done goes back to Home', async () => {
    const fake = installFakeAtlas({ 'cards:list': () => readers });
    connect();
    useStore.getState().setScreen('erase');
    render(<ErasePanel />);
    act(() => useStore.getState().setEraseCard(readers[1]!));
    await act(async () => useStore.getState().startErase());
    done(fake, 'job-erase', {
      kind: 'erase',
      result: {
        card: '/dev/disk6',
        label: 'BOOT',
        partitionStart: 8192,
        partitionSectors: 31250000,
        writtenBytes: 4e6,
        verified: true,
        eject: { ejected: false, message: 'the card is busy' },
      },
    });
    const finish = screen.getByRole('region', { name: /Card erased/ });
    expect(finish.textContent).toContain('/dev/disk6 Kingston Canvas (16 GB)');
    expect(finish.textContent).toContain('Not ejected: the card is busy');
    expect(document.activeElement).toBe(within(finish).getByRole('heading'));
    await act(async () => fireEvent.click(within(finish).getByRole('button', { name: 'Done' })));
    expect(useStore.getState().screen).toBe('home');
    expect(useStore.getState().flash.eraseJobId).toBeNull();
  });

  it('after a restore: the card and its root partition; another card keeps the set', async () => {
    const fake = installFakeAtlas({ 'cards:list': () => readers });
    connect();
    render(<CloneScreen />);
    act(() => {
      useStore.getState().setRestoreSet('v8-0-6-FLASH');
      useStore.getState().setRestoreCard(readers[0]!);
    });
    await act(async () => useStore.getState().startRestore());
    done(fake, 'job-restore', {
      kind: 'restore',
      result: {
        card: '/dev/disk4',
        set: '/Users/me/atlas-build/golden-clone-v8-0-6-FLASH',
        neededBytes: 3e9,
        rootStart: 532480,
        rootSectors: 62000000,
        grown: true,
        shrunkToFit: false,
        fsckFixed: [],
        eject: { ejected: true, message: 'ejected' },
      },
    });
    const finish = screen.getByRole('region', { name: /golden-clone-v8-0-6-FLASH restored/ });
    expect(finish.textContent).toContain('/dev/disk4 SanDisk Extreme (32 GB)');
    expect(finish.textContent).toContain('Ejected: you can remove it.');
    await act(async () =>
      fireEvent.click(within(finish).getByRole('button', { name: 'Restore onto another card' })),
    );
    expect(useStore.getState().clone.restoreSet).toBe('v8-0-6-FLASH');
    expect(useStore.getState().clone.restoreCard).toBeNull();
    expect(screen.getByRole('group', { name: 'Card to restore onto' })).toBeTruthy();
  });
});
