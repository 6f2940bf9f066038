/**
 * What the app's services return and the transport carries: the results and views of every
 * request channel, the job events, and the error envelope. Plain types: the core's data is
 * defined once, in src-main/common, and carried as it is; the requests are in requests.ts,
 * described by their schemas.
 */
import type { ArtifactKind, LibraryEntry, ManifestFile, Phase } from '../artifacts.js';
import type { CardState, EjectResult, Inspection, PartitionInfo } from '../cards.js';
import type { JobEvent, JobState, PlannedStep, StepInfo } from '../jobs.js';
import type {
  CardFlashResult,
  CheckResult,
  CloneResult,
  FlashResult,
  InsertResult,
  RestoreResult,
  ShrinkResult,
  VerifyReport,
} from '../results.js';
import type { VaultStatus } from '../secrets.js';
import type { EraseResult } from '../results.js';
import type { NextStep } from '../next-steps.js';
import type { CardRef, JobKind, JobRequest } from './requests.js';
import type { AdoptResult, VmRecreateResult, VmUpgradeResult } from '../results.js';
export type { VmRecreatePreview, VmRecreateResult } from '../results.js';

// ---------------------------------------------------------------- errors and envelopes

export interface ErrorInfo {
  /** Stable code from the core (bad-input, not-found, too-small, cancelled, …). */
  code: string;
  /** What happened. */
  message: string;
  /** What to do next, in plain words. */
  hint?: string;
  /** What to do next, as steps the app words as its own screens and buttons. */
  next?: NextStep[];
}

export type Envelope<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

// ---------------------------------------------------------------- app, settings, dialogs

export type Screen = 'home' | 'insert' | 'flash' | 'erase' | 'clone' | 'shrink' | 'library' | 'vm';

export interface AppInfo {
  appVersion: string;
  platform: string;
  /** The library (work directory), ~/atlas-build by default. */
  library: string;
  /** Where the Linux disk tools run, e.g. "this Linux host" or "the atlas-build Lima VM". */
  builder: string;
  builderKind: 'local' | 'lima';
  /** The seed's one-image staging folder (~/Desktop). */
  stagingDir: string;
}

export interface Settings {
  /** The user's ods-player-os-atlas checkout, or any folder with the two payload files. */
  payloadDir: string | null;
  /** The permanent archive (the seed's /Volumes/NVME_VAULT/golden-atlas-img). */
  archiveDir: string;
}

// ---------------------------------------------------------------- secrets

/** atlas_secrets.conf as the app keeps it: encrypted at rest, only its setting names shown. */
export type SecretsStatus = VaultStatus;

// ---------------------------------------------------------------- library

export type { ArtifactKind, Phase };

/** A library entry as the view lists it: without its manifest, with what the view adds. */
export type LibraryItem = Omit<LibraryEntry, 'manifest'> & {
  /** sha256 of the image (images with a manifest only). */
  sha256?: string;
  /** What it was made from, from its manifest. */
  source?: string;
  /** A copy with the same size is in the archive. */
  archived: boolean;
  /** This image is the one staged on the Desktop. */
  staged: boolean;
};

/** A clone set outside the library (tools/ods-sd's clones folder, the lab's ~/atlas-build, an added place). */
export interface ElsewhereSet {
  name: string;
  path: string;
  /** The folder it was found in, and what that folder is. */
  place: { path: string; kind: 'added' | 'ods-sd' | 'lab' };
  bytes: number;
  modifiedAt: string;
  /** The seed's files that are missing (such a set is not offered for a restore). */
  missing: string[];
  /** Checked (partclone header, partclone.chkimg, the dump) and unchanged since. */
  checked: boolean;
}

export type AdoptResultDto = AdoptResult;

export interface LibraryView {
  library: string;
  items: LibraryItem[];
  /** Clone sets found elsewhere, each with where it lives. */
  elsewhere: ElsewhereSet[];
  /** Output of unfinished or interrupted jobs (`*.partial`): never an artifact. */
  unfinished: string[];
  archive: { dir: string; available: boolean; reason?: string };
  staging: { dir: string; staged: string | null };
}

export interface DeleteTicket {
  token: string;
  path: string;
  name: string;
  kind: ArtifactKind;
  bytes: number;
  question: string;
  expiresInSeconds: number;
}

// ---------------------------------------------------------------- names

/** The output a job would create, shown before it runs. */
export interface OutputPlan {
  name: string;
  path: string;
  exists: boolean;
  error?: ErrorInfo;
  /** The field the error is about, shown under it. */
  field?: 'version' | 'tag' | 'name';
}

export interface NameSuggestions {
  golden: { version: string; tag: string };
  cloneImage: { version: string; tag: string };
  /** The newest safety-net clone set, e.g. v8-0-6-FLASH, and its tag. */
  lastSet: string | null;
  lastSetTag: string | null;
}

export interface NextSetName {
  previous: string | null;
  next: string;
}

// ---------------------------------------------------------------- payload

export interface PayloadStatus {
  dir: string;
  /** The folder that holds the two files (the checkout's scripts/ or the folder itself). */
  payloadDir: string | null;
  layout: 'checkout' | 'folder' | null;
  files: Array<{ name: string; found: boolean; path: string }>;
  secrets: {
    found: boolean;
    /** The plain file Insert will use; null when it comes from the encrypted store. */
    path: string | null;
    /** Where it was found: "imported (encrypted)", "beside the payload", "in the library", or "not found". */
    where: string;
    /** Names of the settings in the file (never their values). */
    keys: string[];
    hasRootPassword: boolean;
  };
  ready: boolean;
  problems: ErrorInfo[];
}

// ---------------------------------------------------------------- cards

export interface CardCandidate {
  ref: CardRef;
  description: string;
  removable: boolean;
  readOnly: boolean;
  /** False when the host layer refuses this card; `reasons` says why. */
  usable: boolean;
  reasons: string[];
  /**
   * Why this disk is written only after its own confirmation (larger than any SD card, or
   * internal): the user types its name.
   */
  confirm?: string;
}

export interface FlashCheck {
  card: CardRef;
  usable: boolean;
  reasons: string[];
  /** As CardCandidate.confirm. */
  confirm?: string;
}

/** After a flash or restore: the card was ejected, or why not. */
export type EjectDto = EjectResult;

// ---------------------------------------------------------------- inspection and phase results

export type { CardState };

export type PartitionDto = PartitionInfo;

/** An inspection without the manifest it read. */
export type InspectionDto = Omit<Inspection, 'manifest'>;

export type CheckResultDto = CheckResult;

export type VerifyReportDto = VerifyReport;

export type FileSum = ManifestFile;

export type InsertResultDto = InsertResult;

export type CloneResultDto = CloneResult;

export type RestoreResultDto = RestoreResult;

export type ShrinkResultDto = ShrinkResult;

export type CardFlashResultDto = CardFlashResult;

export type EraseResultDto = EraseResult;

export type FlashResultDto = FlashResult;

export interface ArchiveResultDto {
  source: string;
  dest: string;
  files: FileSum[];
  /** The same content was already in the archive: nothing was copied. */
  alreadyArchived: boolean;
}

export interface StageResultDto {
  staged: string;
  bytes: number;
  sha256: string;
  /** The image that was on the Desktop before (a copy of a library image), now removed. */
  replaced: string | null;
}

// ---------------------------------------------------------------- VM (the atlas-build Lima VM)

export type VmState =
  'not-needed' | 'no-limactl' | 'not-created' | 'installing' | 'stopped' | 'running' | 'broken' | 'unknown';

export interface VmStatusDto {
  /** False on a Linux build host: the disk tools run on the host itself. */
  needed: boolean;
  name: string;
  state: VmState;
  detail: string;
  /** Whether a terminal can be opened (into the VM, or on the Linux host). */
  terminal: boolean;
}

export interface DoctorFinding {
  id: string;
  ok: boolean;
  severity: 'error' | 'warn' | 'info';
  message: string;
  hint?: string;
  /** What fixes it, as steps (the app words them, and offers the VM jobs among them as buttons). */
  next?: NextStep[];
  /** The VM job that fixes it, offered as a button (the first VM job among `next`). */
  action?: 'vm-setup' | 'vm-start' | 'vm-upgrade';
}

export interface DoctorReportDto {
  ok: boolean;
  findings: DoctorFinding[];
}

// ---------------------------------------------------------------- jobs

export interface JobResultMap {
  inspect: InspectionDto;
  insert: InsertResultDto;
  flash: FlashResultDto;
  clone: CloneResultDto;
  restore: RestoreResultDto;
  erase: EraseResultDto;
  verify: VerifyReportDto;
  shrink: ShrinkResultDto;
  archive: ArchiveResultDto;
  stage: StageResultDto;
  adopt: AdoptResultDto;
  'vm-setup': VmStatusDto;
  'vm-start': VmStatusDto;
  'vm-stop': VmStatusDto;
  'vm-upgrade': VmUpgradeResult;
  'vm-recreate': VmRecreateResult;
}

export type JobOutcome = { [K in JobKind]: { kind: K; result: JobResultMap[K] } }[JobKind];

export type { JobState };

export type StepDto = StepInfo;

/** A step a job announced before reaching it, with the bytes it will move where known. */
export type PlannedStepDto = PlannedStep;

/** A progress event without its envelope; an unknown ETA is null (JSON has no undefined). */
export type ProgressDto = Omit<Extract<JobEvent, { type: 'progress' }>, 'type' | 'jobId' | 'etaSeconds'> & {
  /** Seconds left; null while the speed is not known yet. */
  etaSeconds: number | null;
};

export interface JobSummary {
  id: string;
  kind: JobKind;
  title: string;
  request: JobRequest;
  state: JobState;
  startedAt: string;
  endedAt: string | null;
  steps: StepDto[];
  /**
   * The steps the job announced, in order (every long phase and the VM's setup and start do):
   * shown with those still to come, and weighed by their bytes in the job's one progress.
   */
  plan?: PlannedStepDto[];
  progress: ProgressDto | null;
  /** The last lines of the job's log. */
  log: string[];
  outcome: JobOutcome | null;
  error: ErrorInfo | null;
}

export type JobEventDto =
  | { type: 'started'; job: JobSummary }
  | { type: 'plan'; jobId: string; steps: PlannedStepDto[] }
  | { type: 'step'; jobId: string; step: StepDto }
  | { type: 'progress'; jobId: string; progress: ProgressDto }
  | { type: 'log'; jobId: string; line: string }
  | { type: 'done'; jobId: string; outcome: JobOutcome; endedAt: string }
  | { type: 'failed'; jobId: string; state: 'failed' | 'cancelled'; error: ErrorInfo; endedAt: string };
