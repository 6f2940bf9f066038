/**
 * What the reasons about a disk mean, with no system asked: which one stops a write, the error a
 * job ends with, and when a disk's size or place needs its own confirmation. Pure; shared by the
 * card platforms (their targetReasons, the raw-disk helper's re-check) and target-guards.ts.
 */
import { AtlasError } from '../errors.js';
import { formatBytes } from '../../common/format-bytes.js';
import { LARGE_DISK_BYTES, type TargetContext, type TargetReason } from './card-types.js';

export const isRefusal = (r: TargetReason) => r.severity === 'refuse';

const GB = (n: number) => formatBytes(n, { unit: 'GB' });

/**
 * Why a disk of this size (and, on macOS, internal and not a card reader) needs its own
 * confirmation. Pure.
 */
export function unusualDisk(bytes: number, internal = false): TargetReason | undefined {
  if (internal) {
    return {
      severity: 'confirm',
      message: 'an internal disk, not a card in a reader',
      hint: 'make sure this is the card you mean: it needs its own confirmation',
    };
  }
  if (bytes > LARGE_DISK_BYTES) {
    return {
      severity: 'confirm',
      message: `${GB(bytes)}: larger than any SD card for the player (8–256 GB)`,
      hint: 'make sure this is the card you mean: a disk this large needs its own confirmation',
    };
  }
  return undefined;
}

/** The refusal as the error a job ends with. */
export function refusal(device: string, reason: TargetReason): AtlasError {
  if (reason.severity === 'confirm') {
    return new AtlasError(
      'unsafe-target',
      `${device} is ${reason.message}: not written without its own confirmation`,
      reason.hint,
      { next: [{ do: 'confirm-large-disk' }] },
    );
  }
  return new AtlasError('unsafe-target', `${device} ${reason.message}: refusing to write it`, reason.hint);
}

/** The first reason that stops the write (a refusal, or an unusual disk not confirmed). */
export function blocking(reasons: TargetReason[], context: TargetContext): TargetReason | undefined {
  return (
    reasons.find(isRefusal) ??
    (context.unusualConfirmed ? undefined : reasons.find((r) => r.severity === 'confirm'))
  );
}
