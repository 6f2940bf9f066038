// @vitest-environment jsdom
// The confirmation before a write is modal for the keyboard: focus starts on Cancel, Tab stays
// inside, Escape cancels, focus goes back where it was; each card is named by model, size, device.
import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { useState } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { ConfirmDialog } from '../../src-renderer/components/confirm-dialog';
import type { CardCandidate } from '../../src-main/common/contract';
import './setup';

const sandisk: CardCandidate = {
  ref: { path: '/dev/sdc', kind: 'device', bytes: 31.9e9, node: 3 },
  description: '/dev/sdc SanDisk SD Card Reader 000000000123 (31.9 GB)',
  removable: true,
  readOnly: false,
  usable: true,
  reasons: [],
};

function Harness({ onConfirm }: { onConfirm(): void }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" onClick={() => setOpen(true)}>
        Flash 1 card
      </button>
      <button type="button">Elsewhere</button>
      {open && (
        <ConfirmDialog
          title="Erase and flash?"
          message="Everything on this card will be erased."
          cards={[sandisk]}
          confirmLabel="Erase and flash"
          onCancel={() => setOpen(false)}
          onConfirm={onConfirm}
        />
      )}
    </>
  );
}

describe('ConfirmDialog', () => {
  it('keeps Tab inside, cancels on Escape and gives focus back', () => {
    const confirmed = vi.fn();
    render(<Harness onConfirm={confirmed} />);
    const opener = screen.getByRole('button', { name: 'Flash 1 card' });
    opener.focus();
    act(() => fireEvent.click(opener));
    const dialog = screen.getByRole('dialog');
    const cancel = within(dialog).getByRole('button', { name: 'Cancel' });
    const go = within(dialog).getByRole('button', { name: 'Erase and flash' });
    expect(document.activeElement).toBe(cancel);

    go.focus();
    fireEvent.keyDown(go, { key: 'Tab' });
    expect(document.activeElement).toBe(cancel);
    fireEvent.keyDown(cancel, { key: 'Tab', shiftKey: true });
    expect(document.activeElement).toBe(go);

    act(() => {
      fireEvent.keyDown(go, { key: 'Escape' });
    });
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(confirmed).not.toHaveBeenCalled();
    expect(document.activeElement).toBe(opener);
  });

  it('names each card by model and size, then its device', () => {
    render(<Harness onConfirm={() => undefined} />);
    act(() => fireEvent.click(screen.getByRole('button', { name: 'Flash 1 card' })));
    const item = within(screen.getByRole('list', { name: 'Cards to be erased' })).getByRole('listitem');
    expect(within(item).getByText('SanDisk SD Card Reader 000000000123 (31.9 GB)').tagName).toBe('STRONG');
    expect(item.textContent).toContain('/dev/sdc');
  });
});
