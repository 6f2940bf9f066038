// @vitest-environment jsdom
// Erase from the app: refused disks show their reason and cannot be picked to erase; a disk larger
// than any SD card is erased only after its name is typed, and only after the confirmation.
import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ErasePanel } from '../../src-renderer/components/erase-panel';
import { useStore } from '../../src-renderer/store/store';
import type { CardCandidate } from '../../src-main/common/contract';
import { installFakeAtlas } from './fake-atlas';
import { connect } from './setup';
import { hugeDisk, typeNameToConfirm } from './confirm-name';

const huge = hugeDisk;
const system: CardCandidate = {
  ref: { path: '/dev/disk0', kind: 'device', bytes: 5e11, node: 0 },
  description: '/dev/disk0 APPLE SSD (500.1 GB)',
  removable: false,
  readOnly: false,
  usable: false,
  reasons: ['system disk'],
};

describe('ErasePanel', () => {
  it('erases a disk larger than any SD card only after its name is typed and the erase confirmed', async () => {
    const fake = installFakeAtlas({ 'cards:list': () => [huge, system] });
    connect();
    render(<ErasePanel />);
    const picker = screen.getByRole('group', { name: 'Card to erase' });
    const refused = (await within(picker).findByText(/\/dev\/disk0 APPLE SSD/)).closest('li')!;
    expect(refused.textContent).toContain('system disk');
    act(() => useStore.getState().setEraseCard(huge));
    const erase = () => screen.getByRole('button', { name: 'Erase' }) as HTMLButtonElement;
    typeNameToConfirm('Type disk8 to confirm erasing', erase, 'disk0', 'disk8');
    await act(async () => fireEvent.click(erase()));
    expect(fake.callsOf('jobs:start')).toEqual([]);
    const dialog = screen.getByRole('dialog');
    expect(dialog.textContent).toContain('Everything on this card will be lost');
    expect(within(dialog).getByRole('listitem').textContent).toBe('USB disk (2000.4 GB) /dev/disk8');
    await act(async () => fireEvent.click(within(dialog).getByRole('button', { name: 'Erase' })));
    expect(fake.callsOf('jobs:start')).toEqual([[{ kind: 'erase', card: huge.ref, confirmed: true }]]);
  });

  it('never erases a refused disk', () => {
    installFakeAtlas({ 'cards:list': () => [system] });
    connect();
    render(<ErasePanel />);
    act(() => useStore.getState().setEraseCard(system));
    expect((screen.getByRole('button', { name: 'Erase' }) as HTMLButtonElement).disabled).toBe(true);
  });
});
