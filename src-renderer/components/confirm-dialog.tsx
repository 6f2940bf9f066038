/**
 * A modal question before anything is erased or deleted. Modal for the keyboard too: focus starts
 * on Cancel, Tab stays inside the dialog, Escape cancels, and focus goes back where it was. The
 * cards about to be written are named as Raspberry Pi Imager names them: model, size and device.
 */
import { useEffect, useRef, type KeyboardEvent, type ReactNode } from 'react';
import type { CardCandidate } from '../../src-main/common/contract';
import { baseName, bytes } from '../lib/format';

/** A card as the confirmation names it: model and size, then its device (or file). */
export function cardLabel(c: CardCandidate): { name: string; where: string } {
  if (c.ref.kind === 'file')
    return { name: `${baseName(c.ref.path)} (${bytes(c.ref.bytes)})`, where: c.ref.path };
  // The host describes a disk as "DEVICE MODEL SERIAL (SIZE)".
  const rest = c.description.startsWith(c.ref.path)
    ? c.description.slice(c.ref.path.length).trim()
    : c.description;
  return { name: rest || bytes(c.ref.bytes), where: c.ref.path };
}

const FOCUSABLE =
  'button:not([disabled]), input:not([disabled]), select:not([disabled]), [href], [tabindex]:not([tabindex="-1"])';

export function ConfirmDialog({
  title,
  message,
  cards,
  confirmLabel,
  onConfirm,
  onCancel,
  children,
}: {
  title: string;
  message: string;
  /** The cards that will be written, each named by model, size and device. */
  cards?: CardCandidate[];
  confirmLabel: string;
  onConfirm(): void;
  onCancel(): void;
  /** More about what is lost, and choices, between the message and the buttons. */
  children?: ReactNode;
}) {
  const dialog = useRef<HTMLDivElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    cancel.current?.focus();
    return () => before?.focus?.();
  }, []);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      onCancel();
      return;
    }
    if (e.key !== 'Tab' || !dialog.current) return;
    const all = [...dialog.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
    const first = all[0];
    const last = all.at(-1);
    if (!first || !last) return;
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  };

  return (
    <div className="modal-backdrop">
      <div
        ref={dialog}
        className="modal"
        role="dialog"
        aria-modal="true"
        aria-labelledby="confirm-title"
        aria-describedby="confirm-message"
        onKeyDown={onKeyDown}
      >
        <h2 id="confirm-title">{title}</h2>
        <p id="confirm-message">{message}</p>
        {cards && cards.length > 0 && (
          <ul className="confirm-cards" aria-label="Cards to be erased">
            {cards.map((c) => {
              const l = cardLabel(c);
              return (
                <li key={c.ref.path}>
                  <strong>{l.name}</strong> <span className="mono muted">{l.where}</span>
                </li>
              );
            })}
          </ul>
        )}
        {children}
        <div className="row end">
          <button ref={cancel} type="button" className="button secondary" onClick={onCancel}>
            Cancel
          </button>
          <button type="button" className="button danger" onClick={onConfirm}>
            {confirmLabel}
          </button>
        </div>
      </div>
    </div>
  );
}
