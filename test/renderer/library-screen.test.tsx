// @vitest-environment jsdom
// The library: every artifact with its phase, version, tag, size and date; actions go to the
// backend; delete needs the confirmation ticket.
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { LibraryScreen } from '../../src-renderer/components/library-screen';
import type { LibraryItem, LibraryView } from '../../src-main/common/contract';
import { EMPTY_LIBRARY, installFakeAtlas } from './fake-atlas';
import { connect } from './setup';

const item = (over: Partial<LibraryItem>): LibraryItem => ({
  name: 'x',
  path: '/Users/me/atlas-build/x',
  kind: 'golden-image',
  phase: 0,
  bytes: 2_500_000_000,
  modifiedAt: '2026-03-01T12:30:00.000Z',
  hasManifest: true,
  archived: false,
  staged: false,
  ...over,
});

const VIEW: LibraryView = {
  ...EMPTY_LIBRARY,
  items: [
    item({
      name: 'golden-clone-v8-0-6-FLASH',
      path: '/Users/me/atlas-build/golden-clone-v8-0-6-FLASH',
      kind: 'clone-set',
      phase: 1,
      version: '8.0.6',
      tag: 'FLASH',
      archived: true,
    }),
    item({
      name: 'ods-atlas-clone-v9-1-7-FLASH.img',
      path: '/Users/me/atlas-build/ods-atlas-clone-v9-1-7-FLASH.img',
      kind: 'clone-image',
      phase: 2,
      version: '9.1.7',
      tag: 'FLASH',
    }),
    item({
      name: 'ods-atlas-golden-v9-1-7-ORIGIN.img',
      path: '/Users/me/atlas-build/ods-atlas-golden-v9-1-7-ORIGIN.img',
      version: '9.1.7',
      tag: 'ORIGIN',
      staged: true,
    }),
  ],
  staging: { dir: '/Users/me/Desktop', staged: 'ods-atlas-golden-v9-1-7-ORIGIN.img' },
};

function rows() {
  return screen.getAllByRole('row').slice(1);
}

describe('LibraryScreen', () => {
  it('lists every artifact by phase with version, tag, size, date and where copies are', async () => {
    installFakeAtlas({ 'library:list': () => VIEW });
    connect();
    render(<LibraryScreen />);
    await waitFor(() => expect(rows()).toHaveLength(3));
    expect(rows().map((r) => within(r).getAllByRole('cell')[0]!.textContent)).toEqual(['P0', 'P1', 'P2']);
    const golden = rows()[0]!;
    expect(golden.textContent).toContain('9.1.7');
    expect(golden.textContent).toContain('ORIGIN');
    expect(golden.textContent).toContain('2.5 GB');
    expect(golden.textContent).toContain('staged');
    expect(rows()[1]!.textContent).toContain('archived');
    expect(within(rows()[1]!).queryByRole('button', { name: 'Stage' })).toBeNull();
    expect(screen.getByText(/holds ods-atlas-golden-v9-1-7-ORIGIN.img \(one image at a time\)/)).toBeTruthy();
  });

  it('deletes only after the user confirms the ticket question', async () => {
    const path = '/Users/me/atlas-build/ods-atlas-clone-v9-1-7-FLASH.img';
    const fake = installFakeAtlas({
      'library:list': () => VIEW,
      'library:delete-request': (p) => ({
        token: 'tok-1',
        path: p,
        name: 'ods-atlas-clone-v9-1-7-FLASH.img',
        kind: 'clone-image',
        bytes: 1,
        question: 'Delete ods-atlas-clone-v9-1-7-FLASH.img (2.50 GB) from the library? It cannot be undone.',
        expiresInSeconds: 120,
      }),
      'library:delete': () => null,
    });
    connect();
    render(<LibraryScreen />);
    await waitFor(() => expect(rows()).toHaveLength(3));
    await act(async () => fireEvent.click(within(rows()[2]!).getByRole('button', { name: 'Delete' })));
    const dialog = screen.getByRole('dialog');
    expect(dialog.textContent).toContain('It cannot be undone.');
    expect(fake.callsOf('library:delete')).toEqual([]);
    await act(async () => fireEvent.click(within(dialog).getByRole('button', { name: 'Delete' })));
    expect(fake.callsOf('library:delete')).toEqual([[path, 'tok-1']]);
    expect(fake.callsOf('library:list').length).toBeGreaterThanOrEqual(2);
  });

  it('archives and stages through jobs, reveals in Finder, and explains a missing archive', async () => {
    const fake = installFakeAtlas({
      'library:list': () => ({
        ...VIEW,
        archive: {
          dir: '/Volumes/NVME_VAULT/golden-atlas-img',
          available: false,
          reason: '/Volumes/NVME_VAULT is not connected',
        },
      }),
      'library:reveal': () => null,
    });
    connect();
    render(<LibraryScreen />);
    await waitFor(() => expect(rows()).toHaveLength(3));
    expect(screen.getByText('/Volumes/NVME_VAULT is not connected')).toBeTruthy();
    expect((within(rows()[0]!).getByRole('button', { name: 'Archive' }) as HTMLButtonElement).disabled).toBe(
      true,
    );
    await act(async () => fireEvent.click(within(rows()[2]!).getByRole('button', { name: 'Stage' })));
    await act(async () => fireEvent.click(within(rows()[0]!).getByRole('button', { name: 'Reveal' })));
    expect(fake.callsOf('jobs:start')).toEqual([
      [{ kind: 'stage', path: '/Users/me/atlas-build/ods-atlas-clone-v9-1-7-FLASH.img' }],
    ]);
    expect(fake.callsOf('library:reveal')).toEqual([
      ['/Users/me/atlas-build/ods-atlas-golden-v9-1-7-ORIGIN.img'],
    ]);
    expect(screen.getByRole('region', { name: /job: stage job/ })).toBeTruthy();
  });
});
