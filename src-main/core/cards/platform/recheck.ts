/**
 * What the raw-disk helper's re-check right before it touches a card does the same way on every
 * system: the card compared with the one that was picked, the guards applied, a busy device named.
 */
import { AtlasError } from '../../errors.js';
import type { Expect } from '../../../common/raw-disk-protocol.js';
import type { DiskutilOptions } from '../card-types.js';
import { blocking, refusal } from '../target-reasons.js';
import type { CardPlatform, HelperGuard } from './card-platform.js';

export function changed(device: string, why: string): AtlasError {
  return new AtlasError(
    'card-changed',
    `the card at ${device} is not the one that was picked (${why})`,
    'insert the card you picked, or pick the card again',
  );
}

export function compareIdentity(device: string, expect: Expect, now: Expect): void {
  for (const k of ['bytes', 'serial', 'model', 'medium'] as const) {
    if (expect[k] !== now[k]) {
      throw changed(device, `${k} was ${JSON.stringify(expect[k])}, is ${JSON.stringify(now[k])}`);
    }
  }
  if (expect.table !== undefined && expect.table !== now.table) {
    throw changed(device, `partition table was ${expect.table}, is ${now.table ?? 'unreadable'}`);
  }
}

/**
 * target-guards' reasons, applied by the helper: nothing may be mounted (the client unmounts
 * first); a write is refused for every refusal, and for an unusual disk the user did not confirm.
 */
export async function guardTarget(
  device: string,
  op: 'read' | 'write',
  guard: HelperGuard,
  cards: CardPlatform,
  opts?: DiskutilOptions,
): Promise<void> {
  const context = {
    platform: cards.name,
    unusualConfirmed: guard.unusual === true,
    ...(guard.places ? { places: guard.places } : {}),
    ...(opts ? { diskutil: opts } : {}),
  };
  const reasons = await cards.targetReasons(device, context);
  const stop = op === 'write' ? blocking(reasons, context) : undefined;
  if (stop) throw refusal(device, stop);
  const mounted = reasons.filter((r) => r.severity === 'release').map((r) => r.mountPoint);
  if (mounted.length > 0) {
    throw new AtlasError(
      'unsafe-target',
      `${device} has mounted file systems (${mounted.join(', ')}): refusing to touch it`,
      'unmount the card first (Atlas Imager does this before reading or writing)',
    );
  }
}

/** An open of a card device that failed because something holds it. */
export function deviceBusy(device: string): AtlasError {
  return new AtlasError(
    'unsafe-target',
    `${device} is in use (a partition is mounted or another program has it open)`,
    'unmount the card and close programs using it, then try again',
  );
}
