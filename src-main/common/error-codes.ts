/**
 * Every error code, in one table: what it means and whether it is the input's fault (the CLI exits
 * 2 for those, 1 for the rest). Errors cross every boundary (IPC, the raw-disk helper, the CLI's
 * JSON) as SerializedError.
 */
import type { NextStep } from './next-steps.js';

export const ERROR_CODES = {
  usage: { input: true, means: 'the command line is wrong' },
  'bad-input': { input: true, means: 'a value given is not acceptable' },
  'not-found': { input: true, means: 'a file, card or VM named does not exist' },
  exists: { input: true, means: 'the output already exists' },
  'too-small': { input: true, means: 'the card or disk is too small' },
  unsupported: { input: true, means: 'the input is of a kind this tool does not handle' },
  'wrong-phase': { input: true, means: 'the card is not in the phase this step needs' },
  'unsafe-target': { input: true, means: 'the target is a disk that must not be written' },
  busy: { input: true, means: 'another job holds the card or the output' },
  'card-changed': { input: false, means: 'the card is not the one picked' },
  'no-space': { input: false, means: 'not enough free space' },
  permission: { input: false, means: 'the rights needed are missing' },
  'missing-tool': { input: false, means: 'a tool is not installed' },
  'verify-failed': { input: false, means: 'what was written does not read back the same' },
  'checklist-failed': { input: false, means: 'the card fails the checklist' },
  cancelled: { input: false, means: 'the job was cancelled' },
  'tool-failed': { input: false, means: 'a tool failed' },
} as const satisfies Record<string, { input: boolean; means: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * The builder scripts' own failure codes (`atlas_fail CODE …` in lima/scripts) that are not error
 * codes themselves, and the error each one is. Any other unknown code is a failed tool.
 */
export const SCRIPT_CODES: Readonly<Record<string, ErrorCode>> = {
  'system-disk': 'unsafe-target',
  busy: 'unsafe-target',
  fsck: 'tool-failed',
  io: 'tool-failed',
  loop: 'tool-failed',
  mount: 'tool-failed',
  shrink: 'tool-failed',
  'too-full': 'no-space',
  verify: 'tool-failed',
};

/** The error a script's failure code stands for. */
export function errorCodeOfScript(code: string): ErrorCode {
  if (Object.hasOwn(SCRIPT_CODES, code)) return SCRIPT_CODES[code]!;
  return Object.hasOwn(ERROR_CODES, code) ? (code as ErrorCode) : 'tool-failed';
}

export interface SerializedError {
  code: ErrorCode;
  message: string;
  /** Advice in words that name neither a CLI flag nor an app control. */
  hint?: string;
  /** What to do next, worded by the CLI and by the app each in its own terms. */
  next?: NextStep[];
}
