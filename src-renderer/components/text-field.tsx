/**
 * A labelled text field and its error, tied together as every screen shows them: the error
 * right under the field, the field marked invalid and described by it (aria-invalid,
 * aria-describedby), so a screen reader reads why when the field is reached.
 */
import { useId } from 'react';
import type { ErrorInfo } from '../../src-main/common/contract';
import { appStepsText } from '../next-steps';

/** An error as one line under a field: what is wrong, then what to do. */
export function errorLine(error: ErrorInfo): string {
  return [error.message, error.hint, appStepsText(error.next)].filter(Boolean).join(' — ');
}

export function TextField({
  title,
  label,
  value,
  onChange,
  error,
  placeholder,
  className,
}: {
  /** The visible label. */
  title: string;
  /** The accessible name, when it differs from the visible label. */
  label?: string;
  value: string;
  onChange(value: string): void;
  error?: ErrorInfo | null | undefined;
  placeholder?: string | undefined;
  className?: string;
}) {
  const id = useId();
  const errorId = `${id}-error`;
  return (
    <label className={className}>
      {title}
      <input
        value={value}
        onChange={(e) => onChange(e.target.value)}
        placeholder={placeholder}
        aria-label={label ?? title}
        {...(error ? { 'aria-invalid': true, 'aria-describedby': errorId } : {})}
      />
      {error && (
        <span id={errorId} className="field-error" role="alert">
          {errorLine(error)}
        </span>
      )}
    </label>
  );
}
