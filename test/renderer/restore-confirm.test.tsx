// @vitest-environment jsdom
// Restore onto a disk larger than any SD card: written only after the user types its name.
import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { CloneScreen } from '../../src-renderer/components/clone-screen';
import { useStore } from '../../src-renderer/store/store';
import type { CardCandidate } from '../../src-main/ipc/contract';
import { installFakeAtlas } from './fake-atlas';
import { connect } from './setup';

const why = '2000.4 GB: larger than any SD card for the player (8–256 GB)';
const huge: CardCandidate = {
  ref: { path: '/dev/disk8', kind: 'device', bytes: 2e12, node: 8 },
  description: '/dev/disk8 USB disk (2000.4 GB)',
  removable: true,
  readOnly: false,
  usable: true,
  reasons: [],
  confirm: why,
};

describe('CloneScreen restore', () => {
  it('restores onto a disk larger than any SD card only after its name is typed', async () => {
    const fake = installFakeAtlas({ 'cards:list': () => [huge] });
    connect();
    render(<CloneScreen />);
    const picker = screen.getByRole('group', { name: 'Card to restore onto' });
    const item = (await within(picker).findByText(/\/dev\/disk8 USB disk/)).closest('li')!;
    expect(item.textContent).toContain(why);
    act(() => {
      useStore.getState().setRestoreSet('v8-0-6-FLASH');
      useStore.getState().setRestoreCard(huge);
    });
    const restore = () => screen.getByRole('button', { name: 'Restore' }) as HTMLButtonElement;
    expect(restore().disabled).toBe(true);
    const name = screen.getByLabelText('Type disk8 to confirm');
    fireEvent.change(name, { target: { value: 'disk' } });
    expect(restore().disabled).toBe(true);
    fireEvent.change(name, { target: { value: 'disk8' } });
    expect(restore().disabled).toBe(false);
    await act(async () => fireEvent.click(restore()));
    await act(async () =>
      fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Erase and restore' })),
    );
    expect(fake.callsOf('jobs:start')).toEqual([
      [{ kind: 'restore', card: huge.ref, set: 'v8-0-6-FLASH', confirmed: true }],
    ]);
  });
});
