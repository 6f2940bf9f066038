// @vitest-environment jsdom
// Restore onto a disk larger than any SD card: written only after the user types its name.
import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { CloneScreen } from '../../src-renderer/components/clone-screen';
import { useStore } from '../../src-renderer/store/store';
import { installFakeAtlas } from './fake-atlas';
import { connect } from './setup';
import { hugeDisk, LARGER_THAN_SD, typeNameToConfirm } from './confirm-name';

const huge = hugeDisk;

describe('CloneScreen restore', () => {
  it('restores onto a disk larger than any SD card only after its name is typed', async () => {
    const fake = installFakeAtlas({ 'cards:list': () => [huge] });
    connect();
    render(<CloneScreen />);
    const picker = screen.getByRole('group', { name: 'Card to restore onto' });
    const item = (await within(picker).findByText(/\/dev\/disk8 USB disk/)).closest('li')!;
    expect(item.textContent).toContain(LARGER_THAN_SD);
    act(() => {
      useStore.getState().setRestoreSet('v8-0-6-FLASH');
      useStore.getState().setRestoreCard(huge);
    });
    const restore = () => screen.getByRole('button', { name: 'Restore' }) as HTMLButtonElement;
    typeNameToConfirm('Type disk8 to confirm', restore, 'disk', 'disk8');
    await act(async () => fireEvent.click(restore()));
    await act(async () =>
      fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Erase and restore' })),
    );
    expect(fake.callsOf('jobs:start')).toEqual([
      [{ kind: 'restore', card: huge.ref, set: 'v8-0-6-FLASH', confirmed: true }],
    ]);
  });
});
