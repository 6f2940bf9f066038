/**
 * Typed errors. Every error the core raises says what happened (message) and what the user
 * should do next (hint); `code` is stable for programs, `exitCode` follows the CLI contract
 * (2: the input was wrong, 1: anything else).
 */
import { ERROR_CODES, type ErrorCode, type SerializedError } from '../common/error-codes.js';
const INPUT_ERRORS: ReadonlySet<ErrorCode> = new Set(
  (Object.keys(ERROR_CODES) as ErrorCode[]).filter((c) => ERROR_CODES[c].input),
);

export { ERROR_CODES, type ErrorCode, type SerializedError };

export class AtlasError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AtlasError';
    this.code = code;
    this.hint = hint;
  }

  get exitCode(): 1 | 2 {
    return INPUT_ERRORS.has(this.code) ? 2 : 1;
  }

  toJSON(): SerializedError {
    return this.hint === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, hint: this.hint };
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
    return new AtlasError(
      'no-space',
      'the work directory ran out of space',
      'free some space or choose another --out-dir/--library',
    );
  }
  if (e?.code === 'EACCES' || e?.code === 'EPERM') {
    return new AtlasError('permission', `permission denied: ${e.message}`, 'run the command as root (sudo)');
  }
  if (e?.code === 'ENOENT') return new AtlasError('not-found', e.message);
  return new AtlasError('tool-failed', e instanceof Error ? e.message : String(err));
}
