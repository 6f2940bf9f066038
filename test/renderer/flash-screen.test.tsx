// @vitest-environment jsdom
// Flash: the host layer's reasons are shown for every chosen card; only usable cards are written,
// after the user confirmed the erase; each card's outcome is reported.
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { FlashScreen } from '../../src-renderer/components/flash-screen';
import { useStore } from '../../src-renderer/store/store';
import type { CardCandidate, CardFlashResultDto, CardRef } from '../../src-main/common/contract';
import { EMPTY_LIBRARY, installFakeAtlas } from './fake-atlas';
import { connect } from './setup';
import { LARGER_THAN_SD, typeNameToConfirm } from './confirm-name';

const GOLDEN = '/Users/me/atlas-build/ods-atlas-golden-v9-1-7-ORIGIN.img';
const big: CardRef = { path: '/dev/disk4', kind: 'device', bytes: 32e9, node: 4, serial: 'A1' };
const small: CardRef = { path: '/dev/disk5', kind: 'device', bytes: 1e9, node: 5 };
const system: CardRef = { path: '/dev/disk0', kind: 'device', bytes: 500e9, node: 0 };
const candidate = (ref: CardRef, reasons: string[] = []): CardCandidate => ({
  ref,
  description: `${ref.path} SD Reader (${ref.bytes / 1e9} GB)`,
  removable: true,
  readOnly: false,
  usable: reasons.length === 0,
  reasons,
});

function setup() {
  const fake = installFakeAtlas({
    'library:list': () => ({
      ...EMPTY_LIBRARY,
      items: [
        {
          name: 'ods-atlas-golden-v9-1-7-ORIGIN.img',
          path: GOLDEN,
          kind: 'golden-image',
          phase: 0,
          bytes: 2.1e9,
          modifiedAt: '2026-03-01T12:00:00Z',
          hasManifest: true,
          archived: false,
          staged: false,
        },
      ],
    }),
    'cards:list': () => [
      candidate(big),
      candidate(small),
      candidate(system, ['system disk: the running system is on it (mounted at /)']),
    ],
    'flash:check': (_image, cards) =>
      cards.map((c) =>
        c.path === small.path
          ? {
              card: c,
              usable: false,
              reasons: ['too small: 1.0 GB, the image needs 2.1 GB — use a larger card'],
            }
          : { card: c, usable: true, reasons: [] },
      ),
  });
  connect();
  render(<FlashScreen />);
  return fake;
}

describe('FlashScreen', () => {
  it('shows why a card cannot be written and never writes it', async () => {
    const fake = setup();
    await act(async () => useStore.getState().refreshLibrary());
    await screen.findByText(/\/dev\/disk0/);
    // The system disk is listed with its reason, and cannot be chosen.
    const systemItem = screen.getByText(/\/dev\/disk0/).closest('li')!;
    expect(systemItem.textContent).toContain('system disk: the running system is on it');
    expect((within(systemItem).getByRole('checkbox') as HTMLInputElement).disabled).toBe(true);

    fireEvent.change(screen.getByLabelText('Image from the library'), { target: { value: GOLDEN } });
    await act(async () =>
      fireEvent.click(within(screen.getByText(/\/dev\/disk4/).closest('li')!).getByRole('checkbox')),
    );
    await act(async () =>
      fireEvent.click(within(screen.getByText(/\/dev\/disk5/).closest('li')!).getByRole('checkbox')),
    );
    const checks = await screen.findByRole('list', { name: 'Safety checks' });
    await waitFor(() => expect(checks.textContent).toContain('too small: 1.0 GB, the image needs 2.1 GB'));

    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Flash 1 card' })));
    const dialog = screen.getByRole('dialog');
    expect(dialog.textContent).toContain('Everything on this card will be erased');
    expect(within(dialog).getByRole('list', { name: 'Cards to be erased' }).textContent).toBe(
      'SD Reader (32 GB) /dev/disk4',
    );
    expect(fake.callsOf('jobs:start')).toEqual([]);
    await act(async () => fireEvent.click(within(dialog).getByRole('button', { name: 'Erase and flash' })));
    expect(fake.callsOf('jobs:start')).toEqual([
      [{ kind: 'flash', image: GOLDEN, cards: [big], verify: true }],
    ]);
  });

  /** Flashes GOLDEN to `big`, then the job ends with these per-card results. */
  async function flashAndFinish(cards: CardFlashResultDto[]): Promise<void> {
    const fake = setup();
    await act(async () => useStore.getState().setFlashImage(GOLDEN));
    await act(async () => useStore.getState().toggleFlashTarget(candidate(big)));
    await act(async () => useStore.getState().startFlash());
    act(() =>
      fake.job({
        type: 'done',
        jobId: 'job-flash',
        endedAt: new Date().toISOString(),
        outcome: {
          kind: 'flash',
          result: {
            image: GOLDEN,
            imageBytes: 2.1e9,
            mode: 'used-blocks',
            mappedBytes: 9e8,
            cards,
            failed: cards.filter((c) => !c.ok).length,
          },
        },
      }),
    );
  }

  it('reports each card: verified, or why it failed', async () => {
    await flashAndFinish([
      { card: '/dev/disk4', ok: true, writtenBytes: 9e8, verified: true },
      {
        card: '/dev/disk6',
        ok: false,
        error: { code: 'verify-failed', message: 'read-back differs', hint: 'the card may be failing' },
      },
    ]);
    const list = screen.getByRole('list', { name: 'Flashed cards' });
    expect(list.textContent).toContain('/dev/disk4 SD Reader (32 GB)Written and verified');
    expect(list.textContent).toContain('read-back differs — the card may be failing');
    expect(screen.getByText(/used blocks only/)).toBeTruthy();
  });

  it('writes a disk larger than any SD card only after its name is typed', async () => {
    const huge: CardRef = { path: '/dev/disk7', kind: 'device', bytes: 2e12, node: 7 };
    const why = LARGER_THAN_SD;
    const fake = installFakeAtlas({
      'cards:list': () => [{ ...candidate(huge), confirm: why }],
      'flash:check': (_image, cards) =>
        cards.map((c) => ({ card: c, usable: true, reasons: [], confirm: why })),
    });
    connect();
    render(<FlashScreen />);
    // The card list shows the disk with the reason it needs its own confirmation.
    const item = (await screen.findByText(/\/dev\/disk7/)).closest('li')!;
    expect(item.textContent).toContain(why);
    await act(async () => useStore.getState().setFlashImage(GOLDEN));
    await act(async () => fireEvent.click(within(item).getByRole('checkbox')));
    const checks = await screen.findByRole('list', { name: 'Safety checks' });
    await waitFor(() => expect(checks.textContent).toContain('written only if you type its name'));
    const flashButton = () => screen.getByRole('button', { name: /^Flash/ }) as HTMLButtonElement;
    typeNameToConfirm('Type disk7 to confirm', flashButton, 'disk4', 'disk7');
    await act(async () => fireEvent.click(flashButton()));
    await act(async () =>
      fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Erase and flash' })),
    );
    expect(fake.callsOf('jobs:start')).toEqual([
      [{ kind: 'flash', image: GOLDEN, cards: [huge], verify: true, confirmed: ['/dev/disk7'] }],
    ]);
  });

  it('says whether each flashed card was ejected', async () => {
    await flashAndFinish([
      {
        card: '/dev/disk4',
        ok: true,
        writtenBytes: 9e8,
        verified: true,
        eject: { ejected: true, message: 'Disk /dev/disk4 ejected' },
      },
    ]);
    const list = screen.getByRole('list', { name: 'Flashed cards' });
    expect(list.textContent).toContain('Ejected: you can remove it.');
  });
});
