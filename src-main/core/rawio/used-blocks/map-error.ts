/**
 * Raised when a partition table or file system cannot be mapped with confidence: unknown,
 * damaged, not cleanly unmounted, or using a feature the map does not understand. The card-level
 * map catches it and copies that partition in full, reporting the message as the reason.
 */
import { AtlasError } from '../../errors.js';

export class UsedMapError extends AtlasError {
  constructor(
    /** What was being read: 'ext4', 'fat', 'gpt', 'partition'… */
    readonly what: string,
    message: string,
    hint = 'this partition is copied in full instead; run e2fsck or fsck.fat on the card to repair it',
    /**
     * True when the structures contradict each other or fail their checks (a checksum, a count,
     * a bitmap against the files, a looping tree); false when they are merely not mappable
     * (an unknown feature, an unclean unmount). Tools that trust the same maps (partclone,
     * resize2fs) must not be run on a damaged file system without repairing it first.
     */
    readonly damaged = true,
  ) {
    super('unsupported', message, hint);
    this.name = 'UsedMapError';
  }
}
