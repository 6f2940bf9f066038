// @vitest-environment jsdom
// The card lists: an image file is a card only in the list where the user picked it as one; a
// card the safety check refuses is never left ticked; the lists follow the readers by themselves.
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FlashScreen } from '../../src-renderer/components/flash-screen';
import { ShrinkScreen } from '../../src-renderer/components/shrink-screen';
import { CloneScreen } from '../../src-renderer/components/clone-screen';
import { CARD_POLL_MS } from '../../src-renderer/components/card-picker';
import { useStore } from '../../src-renderer/store/store';
import type { CardCandidate, CardRef } from '../../src-main/common/contract';
import { installFakeAtlas } from './fake-atlas';
import { connect } from './setup';

const GOLDEN = '/Users/me/atlas-build/ods-atlas-golden-v9-1-7-ORIGIN.img';
const KEEP = '/Users/me/atlas-build/ods-atlas-golden-v1-0-0-KEEP.img';
const card4: CardRef = { path: '/dev/disk4', kind: 'device', bytes: 32e9, node: 4 };
const card5: CardRef = { path: '/dev/disk5', kind: 'device', bytes: 1e9, node: 5 };
const candidate = (ref: CardRef, reasons: string[] = []): CardCandidate => ({
  ref,
  description: `${ref.path} SD Reader (${ref.bytes / 1e9} GB)`,
  removable: true,
  readOnly: false,
  usable: reasons.length === 0,
  reasons,
});
const keepFile = (reasons: string[]): CardCandidate =>
  candidate({ path: KEEP, kind: 'file', bytes: 2.1e9, node: 77 }, reasons);
const LIBRARY_REASON = 'in the library: a golden image is never written as a card';

const itemOf = (text: RegExp) => screen.getByText(text).closest('li')!;

afterEach(() => vi.useRealTimers());

describe('card lists', () => {
  it('lists an image file picked on Verify + Shrink there only, never on Flash', async () => {
    installFakeAtlas({
      'cards:list': () => [candidate(card4)],
      'dialog:open-file': () => KEEP,
      'cards:identify': () => keepFile([LIBRARY_REASON]),
    });
    connect();
    const shrink = render(<ShrinkScreen />);
    await screen.findByText(/\/dev\/disk4/);
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Use an image file…' })));
    expect(await screen.findByText(KEEP)).toBeTruthy();
    shrink.unmount();

    render(<FlashScreen />);
    await screen.findByText(/\/dev\/disk4/);
    expect(screen.queryByText(KEEP)).toBeNull();
  });

  it('never ticks an image file picked on Flash that must not be written', async () => {
    installFakeAtlas({
      'cards:list': () => [candidate(card4)],
      'dialog:open-file': () => KEEP,
      'cards:identify': () => keepFile([LIBRARY_REASON]),
    });
    connect();
    render(<FlashScreen />);
    await act(async () => useStore.getState().setFlashImage(GOLDEN));
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Use an image file…' })));
    const item = itemOf(new RegExp(KEEP));
    expect(item.textContent).toContain(LIBRARY_REASON);
    expect((within(item).getByRole('checkbox') as HTMLInputElement).checked).toBe(false);
    expect(useStore.getState().flash.targets).toEqual([]);
  });

  it('unticks a card the safety check refuses, and says why', async () => {
    installFakeAtlas({
      'cards:list': () => [candidate(card4), candidate(card5)],
      'flash:check': (_image, cards) =>
        cards.map((c) =>
          c.path === card5.path
            ? { card: c, usable: false, reasons: ['too small: 1.0 GB, the image needs 2.1 GB'] }
            : { card: c, usable: true, reasons: [] },
        ),
    });
    connect();
    render(<FlashScreen />);
    await act(async () => useStore.getState().setFlashImage(GOLDEN));
    await screen.findByText(/\/dev\/disk5/);
    await act(async () => fireEvent.click(within(itemOf(/\/dev\/disk4/)).getByRole('checkbox')));
    await act(async () => fireEvent.click(within(itemOf(/\/dev\/disk5/)).getByRole('checkbox')));
    const checks = await screen.findByRole('list', { name: 'Safety checks' });
    await waitFor(() => expect(checks.textContent).toContain('too small: 1.0 GB'));
    const box5 = within(itemOf(/^\/dev\/disk5 SD Reader/)).getByRole('checkbox') as HTMLInputElement;
    expect(box5.checked).toBe(false);
    expect(useStore.getState().flash.targets.map((t) => t.ref.path)).toEqual(['/dev/disk4']);
    expect(screen.getByRole('button', { name: 'Flash 1 card' })).toBeTruthy();
  });

  it('shows a card plugged in and unticks one pulled out, without a Refresh', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let inReaders = [candidate(card4)];
    const fake = installFakeAtlas({
      'cards:list': () => inReaders,
      'flash:check': (_image, cards) => cards.map((c) => ({ card: c, usable: true, reasons: [] })),
    });
    connect();
    render(<FlashScreen />);
    await act(async () => useStore.getState().setFlashImage(GOLDEN));
    await screen.findByText(/\/dev\/disk4/);
    expect(screen.queryByRole('button', { name: 'Refresh' })).toBeNull();
    await act(async () => fireEvent.click(within(itemOf(/\/dev\/disk4/)).getByRole('checkbox')));
    expect(useStore.getState().flash.targets).toHaveLength(1);

    inReaders = [candidate(card5)];
    const before = fake.callsOf('cards:list').length;
    await act(async () => vi.advanceTimersByTimeAsync(CARD_POLL_MS));
    expect(fake.callsOf('cards:list').length).toBeGreaterThan(before);
    expect(await screen.findByText(/\/dev\/disk5/)).toBeTruthy();
    expect(screen.queryByText(/\/dev\/disk4/)).toBeNull();
    expect(useStore.getState().flash.targets).toEqual([]);
    expect(screen.getByRole('button', { name: /^Flash/ }).hasAttribute('disabled')).toBe(true);
  });

  it('takes an image file dropped on a card list, there only', async () => {
    const dropped = '/Users/me/Downloads/dev-card.img';
    const fake = installFakeAtlas({
      'cards:identify': (path) => candidate({ path, kind: 'file', bytes: 8e9, node: 9 }),
    });
    connect();
    render(<CloneScreen />);
    const picker = screen.getByRole('group', { name: 'Card to clone' });
    const drop = (name: string) =>
      act(async () => fireEvent.drop(picker, { dataTransfer: { files: [new File(['x'], name)] } }));
    await drop('notes.txt');
    expect(within(picker).getByRole('alert').textContent).toContain('notes.txt is not an .img file');
    await drop('dev-card.img');
    expect(fake.callsOf('cards:identify')).toEqual([[dropped]]);
    expect(useStore.getState().clone.card?.ref.path).toBe(dropped);
    expect(within(picker).queryByRole('alert')).toBeNull();
    // Not a card on the restore list of the same screen.
    const restore = screen.getByRole('group', { name: 'Card to restore onto' });
    expect(within(restore).queryByText(dropped)).toBeNull();
  });
});
