/**
 * A disk larger than any SD card, and the step every screen asks for it: its name typed before the
 * write button works.
 */
import { fireEvent, screen } from '@testing-library/react';
import { expect } from 'vitest';
import type { CardCandidate } from '../../src-main/common/contract';

export const LARGER_THAN_SD = '2000.4 GB: larger than any SD card for the player (8–256 GB)';

/** /dev/disk8, a 2 TB USB disk: usable only once confirmed. */
export const hugeDisk: CardCandidate = {
  ref: { path: '/dev/disk8', kind: 'device', bytes: 2e12, node: 8 },
  description: '/dev/disk8 USB disk (2000.4 GB)',
  removable: true,
  readOnly: false,
  usable: true,
  reasons: [],
  confirm: LARGER_THAN_SD,
};

/**
 * Types `wrong`, then `right`, into the field labelled `label`: `button` stays disabled until the
 * right name is typed, and is enabled then.
 */
export function typeNameToConfirm(
  label: string,
  button: () => HTMLButtonElement,
  wrong: string,
  right: string,
) {
  expect(button().disabled).toBe(true);
  const name = screen.getByLabelText(label);
  fireEvent.change(name, { target: { value: wrong } });
  expect(button().disabled).toBe(true);
  fireEvent.change(name, { target: { value: right } });
  expect(button().disabled).toBe(false);
}
