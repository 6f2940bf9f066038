/**
 * A screen's main button. While it cannot be used it says why beside it ("Waiting for an image,
 * a card"), and the button is described by that text, so the reason is read with the button.
 */
import { useId, type ReactNode } from 'react';

export function ActionButton({
  waiting,
  busy = false,
  onClick,
  children,
}: {
  /** What the button waits for, in words; empty when it can be used. */
  waiting: string[];
  /** A job of this button runs: it waits for that, and says so. */
  busy?: boolean;
  onClick(): void;
  children: ReactNode;
}) {
  const id = useId();
  const why = busy
    ? 'Running: wait for the job below to end.'
    : waiting.length
      ? `Waiting for ${waiting.join(', ')}.`
      : '';
  return (
    <>
      <button
        type="button"
        className="button primary"
        disabled={why !== ''}
        onClick={onClick}
        {...(why ? { 'aria-describedby': id } : {})}
      >
        {children}
      </button>
      {why && (
        <span id={id} className="muted why-disabled">
          {why}
        </span>
      )}
    </>
  );
}
