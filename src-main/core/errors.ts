/**
 * Typed errors. Every error the core raises says what happened (message) and what the user
 * should do next: `next` as data (steps the CLI and the app each word in their own terms), `hint`
 * for advice in plain words that names neither a CLI flag nor an app control. `code` is stable
 * for programs, `exitCode` follows the CLI contract (2: the input was wrong, 1: anything else).
 */
import { ERROR_CODES, type ErrorCode, type SerializedError } from '../common/error-codes.js';
import type { NextStep } from '../common/next-steps.js';
const INPUT_ERRORS: ReadonlySet<ErrorCode> = new Set(
  (Object.keys(ERROR_CODES) as ErrorCode[]).filter((c) => ERROR_CODES[c].input),
);

export { ERROR_CODES, type ErrorCode, type NextStep, type SerializedError };

export class AtlasError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly next: NextStep[];

  constructor(
    code: ErrorCode,
    message: string,
    hint?: string,
    options?: { cause?: unknown; next?: NextStep[] },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AtlasError';
    this.code = code;
    this.hint = hint;
    this.next = options?.next ?? [];
  }

  get exitCode(): 1 | 2 {
    return INPUT_ERRORS.has(this.code) ? 2 : 1;
  }

  toJSON(): SerializedError {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...(this.next.length ? { next: this.next } : {}),
    };
  }

  /** The error rebuilt from its serialized form (the raw-disk helper's answer, IPC). */
  static from(e: SerializedError, options?: { cause?: unknown }): AtlasError {
    return new AtlasError(e.code, e.message, e.hint, { ...options, ...(e.next ? { next: e.next } : {}) });
  }
}

export class CancelledError extends AtlasError {
  constructor(what = 'the job') {
    super('cancelled', `${what} was cancelled; nothing half-written was kept`);
  }
}

/** Wraps anything thrown into an AtlasError so callers deal with one type. */
export function toAtlasError(err: unknown): AtlasError {
  if (err instanceof AtlasError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOSPC') {
    return new AtlasError('no-space', 'the work directory ran out of space', 'free some space', {
      next: [{ do: 'choose-library' }],
    });
  }
  if (e?.code === 'EACCES' || e?.code === 'EPERM') {
    return new AtlasError('permission', `permission denied: ${e.message}`, undefined, {
      next: [{ do: 'run-as-root' }],
    });
  }
  if (e?.code === 'ENOENT') return new AtlasError('not-found', e.message);
  return new AtlasError('tool-failed', e instanceof Error ? e.message : String(err));
}
