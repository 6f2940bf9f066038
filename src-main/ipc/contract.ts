/**
 * The one IPC contract of Atlas Imager, shared by Electron main, the preload bridge and the
 * renderer (after GitHub Desktop's typed channel map): every request channel with its argument
 * tuple and result, every event channel with its payload, and the data shapes they carry.
 *
 * Results travel as data, never as thrown objects (VS Code style): `Envelope<T>` is either the
 * value or an error with its code, message and hint. Long operations are jobs: `jobs:start`
 * returns at once, `jobs:event` streams steps, progress, log lines and the outcome, and
 * `jobs:cancel` stops one.
 *
 * This file is pure types plus the channel name lists: the renderer compiles it without Node. The
 * data the core returns is defined once, in src-main/common, and carried as it is.
 */
import type { ArtifactKind, LibraryEntry, ManifestFile, Phase } from '../common/artifacts.js';
import type { CardIdentity, CardState, EjectResult, Inspection, PartitionInfo } from '../common/cards.js';
import type { JobEvent, JobState, PlannedStep, StepInfo } from '../common/jobs.js';
import type {
  CardFlashResult,
  CheckResult,
  CloneResult,
  FlashResult,
  InsertResult,
  RestoreResult,
  ShrinkResult,
  VerifyReport,
} from '../common/results.js';
import type { VaultStatus } from '../common/secrets.js';
import type { DistCompression, EraseResult } from '../common/results.js';
import type { NextStep } from '../common/next-steps.js';

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

export type SettingsPatch = Partial<Settings>;

export type FilePurpose = 'base-image' | 'image' | 'card-image' | 'secrets';
export type FolderPurpose = 'payload' | 'archive';

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

export interface LibraryView {
  library: string;
  items: LibraryItem[];
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

/** A distributable clone image: compressed with xz or zstd (free space zeroed). */
export type DistCompressionDto = DistCompression;

export type NamePlanRequest =
  | { kind: 'golden-image'; version: string; tag: string }
  | { kind: 'clone-image'; version: string; tag: string; compress?: DistCompressionDto }
  | { kind: 'clone-set'; name: string };

/** The output a job would create, shown before it runs. */
export interface OutputPlan {
  name: string;
  path: string;
  exists: boolean;
  error?: ErrorInfo;
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

/** A card as the user picked it; main checks it is still the same card before writing. */
export type CardRef = Omit<CardIdentity, 'removable' | 'readOnly'>;

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
  action?: 'vm-setup' | 'vm-start';
}

export interface DoctorReportDto {
  ok: boolean;
  findings: DoctorFinding[];
}

// ---------------------------------------------------------------- jobs

export type JobRequest =
  | { kind: 'inspect'; path: string }
  | { kind: 'insert'; base: string; payload: string; version: string; tag: string }
  | {
      kind: 'flash';
      image: string;
      cards: CardRef[];
      verify: boolean;
      /** Cards (paths) with a `confirm` reason whose name the user typed. */
      confirmed?: string[];
    }
  | { kind: 'clone'; card: CardRef; name: string }
  | { kind: 'restore'; card: CardRef; set: string; confirmed?: boolean }
  /** The card back to one FAT32 partition; `confirmed`: an unusual disk whose name was typed. */
  | { kind: 'erase'; card: CardRef; confirmed?: boolean }
  | { kind: 'verify'; card: string }
  | {
      kind: 'shrink';
      card: string;
      version: string;
      tag: string;
      force: boolean;
      compress?: DistCompressionDto;
    }
  | { kind: 'archive'; path: string }
  | { kind: 'stage'; path: string }
  | { kind: 'vm-setup' }
  | { kind: 'vm-start' }
  | { kind: 'vm-stop' };

export type JobKind = JobRequest['kind'];

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
  'vm-setup': VmStatusDto;
  'vm-start': VmStatusDto;
  'vm-stop': VmStatusDto;
}

export type JobOutcome = { [K in JobKind]: { kind: K; result: JobResultMap[K] } }[JobKind];

export type { JobState };

export type StepDto = StepInfo;

/** A step a job announced before reaching it. */
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
  /** The steps the job announced, in order (VM setup and start do): shown with those still to come. */
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

// ---------------------------------------------------------------- the channel maps

export interface InvokeMap {
  'app:info': { args: []; result: AppInfo };
  'settings:get': { args: []; result: Settings };
  'settings:set': { args: [patch: SettingsPatch]; result: Settings };
  'dialog:open-file': { args: [purpose: FilePurpose]; result: string | null };
  'dialog:open-folder': { args: [purpose: FolderPurpose]; result: string | null };
  'payload:check': { args: [dir: string]; result: PayloadStatus };
  'secrets:status': { args: []; result: SecretsStatus };
  'secrets:import': { args: [file: string]; result: SecretsStatus };
  'secrets:forget': { args: []; result: SecretsStatus };
  'names:suggest': { args: []; result: NameSuggestions };
  'names:plan': { args: [request: NamePlanRequest]; result: OutputPlan };
  'names:next-set': { args: [tag: string]; result: NextSetName };
  'library:list': { args: []; result: LibraryView };
  'library:reveal': { args: [path: string]; result: null };
  'library:delete-request': { args: [path: string]; result: DeleteTicket };
  'library:delete': { args: [path: string, token: string]; result: null };
  'cards:list': { args: []; result: CardCandidate[] };
  'cards:identify': { args: [path: string]; result: CardCandidate };
  'flash:check': { args: [image: string, cards: CardRef[]]; result: FlashCheck[] };
  'jobs:start': { args: [request: JobRequest]; result: JobSummary };
  'jobs:cancel': { args: [jobId: string]; result: null };
  'jobs:list': { args: []; result: JobSummary[] };
  'vm:status': { args: []; result: VmStatusDto };
  'vm:doctor': { args: []; result: DoctorReportDto };
  'terminal:open': { args: [cols: number, rows: number]; result: { id: string; title: string } };
  'terminal:input': { args: [id: string, data: string]; result: null };
  'terminal:resize': { args: [id: string, cols: number, rows: number]; result: null };
  'terminal:close': { args: [id: string]; result: null };
}

export interface EventMap {
  'jobs:event': JobEventDto;
  /** Something in the library changed (a job finished, an item was deleted). */
  'library:changed': { reason: string };
  'terminal:data': { id: string; data: string };
  'terminal:exit': { id: string; exitCode: number };
  /** The application menu asks the renderer to show a screen. */
  'menu:navigate': { screen: Screen };
}

export type InvokeChannel = keyof InvokeMap;
export type InvokeArgs<K extends InvokeChannel> = InvokeMap[K]['args'];
export type InvokeResult<K extends InvokeChannel> = InvokeMap[K]['result'];
export type EventChannel = keyof EventMap;

// A Record over the union makes the compiler refuse a channel missing from these lists.
const INVOKE: Record<InvokeChannel, true> = {
  'app:info': true,
  'settings:get': true,
  'settings:set': true,
  'dialog:open-file': true,
  'dialog:open-folder': true,
  'payload:check': true,
  'secrets:status': true,
  'secrets:import': true,
  'secrets:forget': true,
  'names:suggest': true,
  'names:plan': true,
  'names:next-set': true,
  'library:list': true,
  'library:reveal': true,
  'library:delete-request': true,
  'library:delete': true,
  'cards:list': true,
  'cards:identify': true,
  'flash:check': true,
  'jobs:start': true,
  'jobs:cancel': true,
  'jobs:list': true,
  'vm:status': true,
  'vm:doctor': true,
  'terminal:open': true,
  'terminal:input': true,
  'terminal:resize': true,
  'terminal:close': true,
};
const EVENTS: Record<EventChannel, true> = {
  'jobs:event': true,
  'library:changed': true,
  'terminal:data': true,
  'terminal:exit': true,
  'menu:navigate': true,
};

export const INVOKE_CHANNELS = Object.freeze(Object.keys(INVOKE) as InvokeChannel[]);
export const EVENT_CHANNELS = Object.freeze(Object.keys(EVENTS) as EventChannel[]);

export function isInvokeChannel(c: unknown): c is InvokeChannel {
  return typeof c === 'string' && Object.prototype.hasOwnProperty.call(INVOKE, c);
}

export function isEventChannel(c: unknown): c is EventChannel {
  return typeof c === 'string' && Object.prototype.hasOwnProperty.call(EVENTS, c);
}

// ---------------------------------------------------------------- what the renderer sees

/** Anything with a name: a DOM File in the renderer (kept structural so main compiles without DOM). */
export interface FileLike {
  readonly name: string;
}

/** `window.atlas`, exposed by the preload script (or by the e2e test bridge). Nothing else. */
export interface AtlasApi {
  invoke<K extends InvokeChannel>(channel: K, ...args: InvokeArgs<K>): Promise<Envelope<InvokeResult<K>>>;
  on<K extends EventChannel>(channel: K, listener: (payload: EventMap[K]) => void): () => void;
  /** The file system path of a file dropped on the window (Electron: webUtils.getPathForFile). */
  pathForFile(file: FileLike): string;
}
