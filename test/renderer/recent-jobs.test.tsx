// @vitest-environment jsdom
// Home's recent jobs open again: the job's steps, its log and its result.
import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { HomeScreen } from '../../src-renderer/components/home-screen';
import { useStore } from '../../src-renderer/store/store';
import { installFakeAtlas, summary } from './fake-atlas';
import { connect } from './setup';

const IMAGE = '/Users/me/atlas-build/ods-atlas-golden-v9-1-7-ORIGIN.img';
const card = { path: '/dev/disk4', kind: 'device', bytes: 32e9, node: 4 } as const;

describe('recent jobs on Home', () => {
  it('a finished flash opens with its steps, log and each card’s result', async () => {
    const flash = summary(
      { kind: 'flash', image: IMAGE, cards: [card], verify: true },
      {
        id: 'f1',
        title: 'Flash ods-atlas-golden-v9-1-7-ORIGIN.img to disk4',
        state: 'done',
        startedAt: '2026-12-07T01:00:00Z',
        endedAt: '2026-12-07T01:04:00Z',
        steps: [
          { id: 'prepare', label: 'Reading ods-atlas-golden-v9-1-7-ORIGIN.img', index: 0, totalBytes: 0 },
          { id: 'write', label: 'Writing and verifying 1 cards', index: 1, totalBytes: 2e9 },
        ],
        log: ['bmap: 900 MB mapped', 'disk4: verified'],
        outcome: {
          kind: 'flash',
          result: {
            image: IMAGE,
            imageBytes: 2.1e9,
            mode: 'bmap',
            mappedBytes: 9e8,
            failed: 0,
            cards: [
              {
                card: '/dev/disk4',
                ok: true,
                verified: true,
                writtenBytes: 9e8,
                eject: { ejected: true, message: 'ok' },
              },
            ],
          },
        },
      },
    );
    installFakeAtlas({ 'jobs:list': () => [flash] });
    connect();
    await act(async () => useStore.getState().loadJobs());
    render(<HomeScreen />);
    const opener = screen.getByRole('button', { name: /Flash ods-atlas-golden-v9-1-7-ORIGIN\.img to disk4/ });
    expect(opener.getAttribute('aria-expanded')).toBe('false');
    act(() => fireEvent.click(opener));
    expect(opener.getAttribute('aria-expanded')).toBe('true');
    const panel = screen.getByRole('region', { name: /job: Flash ods-atlas-golden/ });
    expect(within(panel).getByRole('list', { name: 'Steps' }).textContent).toContain(
      'Writing and verifying 1 cards',
    );
    expect(within(panel).getByText('Log (2 lines)')).toBeTruthy();
    expect(panel.textContent).toContain('ods-atlas-golden-v9-1-7-ORIGIN.img onto 1 of 1 cards.');
    expect(panel.textContent).toContain('/dev/disk4: written and verified. Ejected.');
  });
});
