/**
 * The raw-disk helper's requests and events (src-main/privileged/raw-disk-helper.ts documents
 * the protocol): the one description the helper and its client (core/cards/helper-client.ts)
 * share. Plain data only.
 */
import type { ErrorCode } from './error-codes.js';
import type { NextStep } from './next-steps.js';

/** A folder or file whose disk must not be written (the library, the staging folder…). */
export interface ProtectedPlace {
  /** What it is, as the user knows it: "the library", "the source image". */
  what: string;
  path: string;
}

/** The checksums a block map's ranges may carry. */
export const CHECKSUM_TYPES = ['sha256', 'sha1'] as const;
export type ChecksumType = (typeof CHECKSUM_TYPES)[number];

export interface Expect {
  bytes: number;
  serial?: string;
  model?: string;
  /** The medium in the reader (core/cards/medium.ts). */
  medium?: string;
  /** The partition table's id when the card was picked; not compared when it could not be read. */
  table?: string;
}
export type HelperRequest =
  | { op: 'read'; device: string; expect: Expect; dest: string; length?: number; used?: boolean }
  | {
      op: 'write';
      device: string;
      expect: Expect;
      source: string;
      verify: boolean;
      invalidate?: Array<[number, number]>;
      ranges?: Array<[number, number] | [number, number, string]>;
      checksumType?: ChecksumType;
      minBytes?: number;
      /** Folders and files whose disks must not be written (the library, the staging folder…). */
      places?: ProtectedPlace[];
      /** The user confirmed an unusual disk (larger than an SD card, or internal). */
      unusual?: boolean;
    }
  | {
      op: 'serve';
      device: string;
      expect: Expect;
      writable: boolean;
      dataIn: string;
      dataOut: string;
      checkMaps?: boolean;
      places?: ProtectedPlace[];
      unusual?: boolean;
    }
  | { op: 'cancel' };
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
  /** serve: the bytes the client read and wrote through the NBD stream. */
  readBytes?: number;
  writtenBytes?: number;
}
export type HelperEvent =
  | { event: 'progress'; phase: Phase; done: number; total: number }
  | ({ event: 'done' } & HelperDone)
  | { event: 'serving'; bytes: number; damaged?: string[]; notes?: string[] }
  | { event: 'error'; code: ErrorCode; message: string; hint?: string; next?: NextStep[] };

export const EXIT = { done: 0, failed: 1, refused: 2, cancelled: 3 } as const;
