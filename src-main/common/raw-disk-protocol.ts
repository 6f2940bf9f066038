/**
 * The raw-disk helper's requests and events (src-main/privileged/raw-disk-helper.ts documents
 * the protocol): the one description the helper and its client (core/cards/helper-client.ts)
 * share. The requests are schemas: the helper checks every request line against them (strict
 * objects, bounded lists, absolute paths) and their types are inferred from them. Plain data only.
 */
import { absolutePath, bool, int, label, record, v } from './schema.js';
import type { ErrorCode } from './error-codes.js';
import type { NextStep } from './next-steps.js';

/** The checksums a block map's ranges may carry. */
export const CHECKSUM_TYPES = ['sha256', 'sha1'] as const;
export type ChecksumType = (typeof CHECKSUM_TYPES)[number];

const positive = () => int({ min: 1 });

/** A folder or file whose disk must not be written (the library, the staging folder…). */
export const PROTECTED_PLACE = record({
  /** What it is, as the user knows it: "the library", "the source image". */
  what: label(),
  path: absolutePath(),
});
export type ProtectedPlace = v.InferOutput<typeof PROTECTED_PLACE>;

/** What the card must still be: the helper re-reads it and refuses another. */
export const EXPECT = record({
  bytes: positive(),
  serial: v.optional(label()),
  model: v.optional(label()),
  /** The medium in the reader (core/cards/medium.ts); a loop device's names its backing file. */
  medium: v.optional(label(4200)),
  /** The partition table's id when the card was picked; not compared when it could not be read. */
  table: v.optional(label()),
});
export type Expect = v.InferOutput<typeof EXPECT>;

const isRange = (p: unknown, withChecksum: boolean): boolean =>
  Array.isArray(p) &&
  (p.length === 2 ||
    (withChecksum && p.length === 3 && typeof p[2] === 'string' && /^[0-9a-f]{1,128}$/.test(p[2]))) &&
  Number.isSafeInteger(p[0]) &&
  Number.isSafeInteger(p[1]) &&
  (p[0] as number) >= 0 &&
  (p[1] as number) > (p[0] as number);

/** [start, end] byte offsets (with `withChecksum`, optionally a hex checksum third), up to 2^20. */
function ranges<T>(withChecksum: boolean) {
  const what = 'is not a [start, end] pair of byte offsets';
  return v.pipe(
    v.array(
      v.custom<T>((p) => isRange(p, withChecksum), what),
      'must be a list of [start, end] pairs',
    ),
    v.maxLength(1 << 20, 'must be a list of at most 2^20 pairs'),
  );
}

const places = () =>
  v.pipe(v.array(PROTECTED_PLACE, 'expected a list'), v.maxLength(16, 'at most 16 places'));

/**
 * A request's number in a session (the helper started with `--session` serves many requests, and
 * tags each event with the id of the request it answers); none in a single-request helper.
 */
const requestId = { id: v.optional(int({ min: 1 })) };

/** The card a request is for, and what it must still be. */
const onCard = { ...requestId, device: label(), expect: EXPECT };

/** What a write must never touch, and whether the user confirmed an unusual disk. */
const guarded = {
  /** Folders and files whose disks must not be written (the library, the staging folder…). */
  places: v.optional(places()),
  /** The user confirmed an unusual disk (larger than an SD card, or internal). */
  unusual: v.optional(bool()),
};

/**
 * A partclone version as `partclone.ext4 -v` prints it ("0.3.23"), which a partclone image's header
 * carries in 14 bytes: the builder's, checked by the clone, the helper and the image's writer.
 */
export const PARTCLONE_VERSION = /^[0-9][0-9A-Za-z.+~-]{0,13}$/;

/**
 * A used-block read's partclone image of one partition (its ext file system), made as the blocks
 * are read and written to a named pipe of the requester's, with partclone's version in its header.
 */
const PARTCLONE_IMAGE = record({
  partition: int({ min: 1, max: 128 }),
  version: v.pipe(v.string('expected a string'), v.regex(PARTCLONE_VERSION, 'is not a partclone version')),
  to: absolutePath(),
});

export const HELPER_REQUEST = v.variant(
  'op',
  [
    record({
      op: v.literal('read'),
      ...onCard,
      dest: absolutePath(),
      length: v.optional(positive()),
      used: v.optional(bool()),
      partclone: v.optional(PARTCLONE_IMAGE),
    }),
    record({
      op: v.literal('write'),
      ...onCard,
      source: absolutePath(),
      verify: bool(),
      invalidate: v.optional(ranges<[number, number]>(false)),
      ranges: v.optional(ranges<[number, number] | [number, number, string]>(true)),
      checksumType: v.optional(v.picklist(CHECKSUM_TYPES, `must be one of ${CHECKSUM_TYPES.join(', ')}`)),
      minBytes: v.optional(positive()),
      ...guarded,
    }),
    // `guarded` is for a writable serve only.
    record({
      op: v.literal('serve'),
      ...onCard,
      writable: bool(),
      dataIn: absolutePath(),
      dataOut: absolutePath(),
      checkMaps: v.optional(bool()),
      ...guarded,
    }),
    record({ op: v.literal('cancel'), ...requestId }),
  ],
  (issue) => `unknown op ${issue.received}: only read, write, serve and cancel exist`,
);
export type HelperRequest = v.InferOutput<typeof HELPER_REQUEST>;

export type Phase = 'read' | 'write' | 'verify';
/** What a finished request did. */
export interface HelperDone {
  bytes: number;
  /** sha256 of everything written or read; empty for a used-block read (the copy has holes). */
  sha256: string;
  verified: boolean;
  /** Used-block reads: the bytes that crossed the card reader, and partitions read in full. */
  mappedBytes?: number;
  fallbacks?: string[];
  /** A read with "partclone": the bytes of the image written, or why it was not made (none). */
  partclone?: { bytes: number; refused?: string };
  /** serve: the bytes the client read and wrote through the NBD stream. */
  readBytes?: number;
  writtenBytes?: number;
}
export type HelperEvent = (
  | { event: 'progress'; phase: Phase; done: number; total: number }
  | ({ event: 'done' } & HelperDone)
  | { event: 'serving'; bytes: number; damaged?: string[]; notes?: string[] }
  | { event: 'error'; code: ErrorCode; message: string; hint?: string; next?: NextStep[] }
) & {
  /** In a session: the request this event answers. */
  id?: number;
};
/**
 * A session's own event, not about any request: it has opened its pipes (the client then removes
 * their names, so no other program can open them and talk to a helper running as root).
 */
export interface HelperReady {
  event: 'ready';
}

export const EXIT = { done: 0, failed: 1, refused: 2, cancelled: 3 } as const;
