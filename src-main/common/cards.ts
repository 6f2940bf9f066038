/** Cards and images as every side sees them: identity, inspection, state, eject. Plain data only. */
import type { Manifest, ParsedName } from './artifacts.js';

export interface CardIdentity {
  path: string;
  kind: 'device' | 'file';
  bytes: number;
  /** st_rdev for devices, st_ino for files. */
  node: number;
  model?: string;
  serial?: string;
  removable?: boolean;
  readOnly?: boolean;
  /** The medium in the reader (medium.ts): changes when the card in the reader is swapped. */
  medium?: string;
  /** The partition table's own id (GPT disk GUID, MBR disk signature), read from the device. */
  table?: string;
}

export type CardState = 'base' | 'golden' | 'provisioned' | 'enrolled' | 'unknown';

export interface PartitionInfo {
  number: number;
  start: number;
  sectors: number;
  bytes: number;
  type: string;
  fs: string | null;
  label: string | null;
  usedBytes: number | null;
}

export interface Inspection {
  path: string;
  kind: 'device' | 'file';
  compression: string;
  bytes: number;
  table: string;
  partitions: PartitionInfo[];
  state: CardState;
  stateText: string;
  payloadPresent: boolean;
  armbianLayout: boolean;
  /** A partition ends past the end of the image: a cut-off download or copy. */
  truncated: boolean;
  /** File systems that cannot be read: what is wrong and what to do, one line each. */
  problems: string[];
  artifact?: ParsedName;
  manifest?: Manifest;
}

export interface EjectResult {
  ejected: boolean;
  /** What happened, or why the card was not ejected. */
  message: string;
}
