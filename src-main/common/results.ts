/** What each phase returns, as the CLI prints it and the app shows it. Plain data only. */
import type { ManifestFile } from './artifacts.js';
import type { EjectResult } from './cards.js';
import type { SerializedError } from './error-codes.js';

/** What a distributable image may be compressed with. */
export const DIST_COMPRESSIONS = ['xz', 'zst'] as const;
export type DistCompression = (typeof DIST_COMPRESSIONS)[number];

export interface CheckResult {
  id: string;
  label: string;
  ok: boolean;
  severity: 'error' | 'warn';
  expected: string;
  evidence: string[];
  /**
   * A failed count: the folder, what was counted and how many, against the checklist's bounds,
   * so the failure can say why and which number to change.
   */
  shortfall?: CountShortfall;
}

export interface CountShortfall {
  path: string;
  /** files (count, recursive: every file below), entries, or packages. */
  counted: 'files' | 'entries' | 'packages';
  /** The name pattern counted, when not every name. */
  pattern?: string;
  /** Subfolders included. */
  recursive: boolean;
  found: number;
  /** The folder is not in the card at all. */
  missing: boolean;
  min?: number;
  max?: number;
}

export interface VerifyReport {
  card: string;
  title: string;
  /** The checklist file the card was checked against. */
  checklistFile?: string;
  ok: boolean;
  failed: number;
  warnings: number;
  checks: CheckResult[];
}

export interface InsertResult {
  image: string;
  manifest: string;
  sha256: string;
  bytes: number;
  baseSha256: string;
  injected: Array<{ path: string; what: string }>;
}

export interface CloneResult {
  dir: string;
  files: ManifestFile[];
  sourceState: string;
}

/** One resize2fs -M pass: the file system's blocks before and after it. */
export interface ShrinkPass {
  pass: number;
  before: number;
  after: number;
  gained: number;
}

export interface ShrinkResult {
  image: string;
  manifest: string;
  bmap: string;
  /** Bytes read from the card (used blocks only). */
  readBytes: number;
  bytes: number;
  sha256: string;
  rootStart: number;
  rootSectors: number;
  fsBlocks: number;
  /** resize2fs -P's estimate of the minimum after the last pass. */
  fsMinBlocks: number;
  blockSize: number;
  /** Every resize2fs -M pass, in order. */
  passes: ShrinkPass[];
  resizeService: string;
  checklist: VerifyReport;
  /** The compression of the image ('none': the plain .img). */
  compression: 'none' | DistCompression;
  /** A compressed image: the .sha256 file beside it, and the uncompressed image inside. */
  sha256File?: string;
  imageBytes: number;
  imageSha256: string;
  /** Free blocks were zeroed (a distributable). */
  zeroed: boolean;
}

export interface RestoreResult {
  card: string;
  set: string;
  neededBytes: number;
  rootStart: number;
  rootSectors: number;
  grown: boolean;
  /** The card was smaller than the clone's card: the root file system was shrunk to fit it. */
  shrunkToFit: boolean;
  /** A shrunk restore: the smallest card this clone's data fits (root at resize2fs -P's minimum). */
  minBytes?: number;
  /** A shrunk restore: the card leaves the root less than the seed's 5 % over its minimum. */
  lowHeadroom?: boolean;
  /** What e2fsck -y changed on the restored file system (empty when it was clean). */
  fsckFixed: string[];
  /** When the host wrote the card (Mac): the bytes that crossed the card reader. */
  writtenBytes?: number;
  /** Devices: ejected after the restore, or why not. */
  eject?: EjectResult;
}

export interface CardFlashResult {
  card: string;
  ok: boolean;
  writtenBytes?: number;
  verified?: boolean;
  /** The card was smaller than the image: its root was shrunk to fit (the data needs minBytes). */
  shrunkToFit?: boolean;
  minBytes?: number;
  /** Devices: ejected after the write, or why not. */
  eject?: EjectResult;
  error?: SerializedError;
}

export interface FlashResult {
  image: string;
  imageBytes: number;
  /** 'bmap': the .bmap beside the image; 'used-blocks': the image's own map; 'stream': whole image. */
  mode: 'bmap' | 'used-blocks' | 'stream';
  mappedBytes: number;
  sha256?: string;
  cards: CardFlashResult[];
  failed: number;
}

/** After an erase: one FAT32 partition over the whole card. */
export interface EraseResult {
  card: string;
  label: string;
  /** The FAT32 partition, in 512-byte sectors. */
  partitionStart: number;
  partitionSectors: number;
  /** Bytes written to the card (the erased image's used blocks). */
  writtenBytes: number;
  verified: boolean;
  eject?: EjectResult;
}

/** A clone set elsewhere copied into the library (the original left as it was). */
export interface AdoptResult {
  from: string;
  dir: string;
  files: Array<{ name: string; bytes: number; sha256: string }>;
}

/** What differs between a VM and the app's template. */
export interface TemplateDifference {
  what: 'image' | 'mounts' | 'probe';
  /** What this VM has. */
  theirs: string;
  /** What Atlas Imager's template gives a VM. */
  ours: string;
}

/** A VM not made from the app's template, upgraded in place. */
export interface VmUpgradeResult {
  instance: string;
  differences: TemplateDifference[];
  /** The guest's distribution (os-release ID), when it was running. */
  distro?: string;
  /** Packages that were missing and are now installed. */
  installed: string[];
  /** The library shared as the work folder: done, already, or why not now. */
  mount: { state: 'added' | 'already' | 'not-now'; detail: string };
}

/** An atlas_secrets.conf found inside a VM, on the guest's own disk (no shared folder). */
export interface GuestSecretsFile {
  /** Its path in the guest. */
  path: string;
  bytes: number;
}

/** What recreating the VM would delete, said before anything is deleted. */
export interface VmRecreatePreview {
  instance: string;
  /** Lima's status of the VM (Running, Stopped, Broken…). */
  state: string;
  /** The size of its disk as limactl reports it (bytes). */
  diskBytes?: number;
  /** What its folder takes on this computer (bytes): the disk images are sparse. */
  usedBytes?: number;
  /** Host folders it shares: kept, they are on this computer. */
  sharedFolders: string[];
  /** Lima refuses to delete it until `limactl unprotect`. */
  protected: boolean;
  /** What is lost, in plain words. */
  lost: string[];
  /** atlas_secrets.conf files only inside the guest, where the seed has the user create it. */
  secrets: GuestSecretsFile[];
  /** Why the guest was not looked into (it was not running). */
  secretsNotChecked?: string;
}

/** The VM deleted and created again from the app's template. */
export interface VmRecreateResult {
  instance: string;
  /** What was deleted. */
  deleted: VmRecreatePreview;
  /** The secrets file imported into the secret store before the VM was deleted (setting names only). */
  imported?: { from: string; keys: string[] };
  /** Secrets left inside the old VM, deleted with it, as the user chose. */
  discarded: string[];
  /** The new VM's state once set up. */
  state: string;
  libraryInVm?: string;
}
