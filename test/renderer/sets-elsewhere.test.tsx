// @vitest-environment jsdom
// Clone sets outside the library in the app: the Library screen lists them with where they live and
// adopts one on request; the Restore picker offers them by path; Home says where they are.
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { LibraryScreen } from '../../src-renderer/components/library-screen';
import { CloneScreen } from '../../src-renderer/components/clone-screen';
import { HomeScreen } from '../../src-renderer/components/home-screen';
import { useStore } from '../../src-renderer/store/store';
import type { LibraryView } from '../../src-main/common/contract';
import { EMPTY_LIBRARY, installFakeAtlas } from './fake-atlas';
import { connect } from './setup';

const CLONES = '/Users/me/Documents/GitHub/ods-player-os-atlas/clones';
const THEIRS = `${CLONES}/clone-20260305_101010`;
const VIEW: LibraryView = {
  ...EMPTY_LIBRARY,
  elsewhere: [
    {
      name: 'clone-20260305_101010',
      path: THEIRS,
      place: { path: CLONES, kind: 'ods-sd' },
      bytes: 2.1e9,
      modifiedAt: '2026-03-05T10:10:10.000Z',
      missing: [],
      checked: false,
    },
    {
      name: 'half-done',
      path: `${CLONES}/half-done`,
      place: { path: CLONES, kind: 'ods-sd' },
      bytes: 300,
      modifiedAt: '2026-03-06T10:10:10.000Z',
      missing: ['sdc2-root.partclone.gz'],
      checked: false,
    },
  ],
};

describe('clone sets elsewhere', () => {
  it('the Library screen lists them with where they live, and adopts one', async () => {
    const fake = installFakeAtlas({ 'library:list': () => VIEW });
    connect();
    render(<LibraryScreen />);
    const table = await screen.findByRole('table', { name: 'Clone sets elsewhere' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows[0]!.textContent).toContain(CLONES);
    expect(rows[0]!.textContent).toContain('tools/ods-sd clones');
    expect(rows[0]!.textContent).toContain('checked before it is restored or adopted');
    expect(rows[1]!.textContent).toContain('incomplete: sdc2-root.partclone.gz missing');
    const adoptHalf = within(rows[1]!).getByRole('button', {
      name: 'Adopt into the library',
    }) as HTMLButtonElement;
    expect(adoptHalf.disabled).toBe(true);
    await act(async () =>
      fireEvent.click(within(rows[0]!).getByRole('button', { name: 'Adopt into the library' })),
    );
    expect(fake.callsOf('jobs:start')).toEqual([[{ kind: 'adopt', path: THEIRS }]]);
  });

  it('the Restore picker offers the complete ones by path, with where they live', async () => {
    installFakeAtlas({ 'library:list': () => VIEW });
    connect();
    await act(async () => useStore.getState().refreshLibrary());
    render(<CloneScreen />);
    const picker = screen.getByLabelText('Clone set to restore') as HTMLSelectElement;
    const group = picker.querySelector('optgroup')!;
    expect(group.label).toBe('Elsewhere (checked before it is written)');
    const options = [...group.querySelectorAll('option')];
    expect(options.map((o) => [o.value, o.textContent])).toEqual([
      [THEIRS, `clone-20260305_101010 (2.1 GB) in ${CLONES}`],
    ]);
    fireEvent.change(picker, { target: { value: THEIRS } });
    expect(useStore.getState().clone.restoreSet).toBe(THEIRS);
  });

  it('Home says how many there are and where', async () => {
    installFakeAtlas({ 'library:list': () => VIEW });
    connect();
    await act(async () => useStore.getState().refreshLibrary());
    render(<HomeScreen />);
    await waitFor(() => expect(screen.getByText(/2 clone sets found outside the library, in /)).toBeTruthy());
    expect(screen.getByText(/2 clone sets found outside the library/).textContent).toContain(CLONES);
  });
});
