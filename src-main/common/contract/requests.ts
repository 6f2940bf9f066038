/**
 * What the renderer may ask for, as schemas: the types are inferred from them, and main checks
 * every request against them before a handler (and so the core) sees it. Objects are strict (an
 * unknown key is refused), strings and lists are bounded, paths are absolute and normalized.
 *
 * Values with a meaning of their own (version, tag) are only bounded here; the core validates
 * them with the hint the user sees. A clone-set name a job writes or reads is also refused here
 * when it ends in a suffix the library keeps for itself (`.partial`, `.lock`…).
 */
import type { CardIdentity } from '../cards.js';
import { DIST_COMPRESSIONS } from '../results.js';
import { reservedSuffixOf } from '../reserved-names.js';
import { absolutePath, bool, byKind, int, list, oneOf, record, text, v } from '../schema.js';

/** A version, a tag or a name as typed: bounded; its meaning is the core's to check. */
export const word = () => text({ min: 1, max: 80 });

/** A job, terminal or delete-ticket id. */
export const id = () => text({ min: 1, max: 64, pattern: /^[A-Za-z0-9-]+$/ });

/** A clone-set name a job writes or reads: bounded, and never the library's own unfinished output. */
const setName = () =>
  v.pipe(
    word(),
    v.check(
      (name) => reservedSuffixOf(name) === undefined,
      (issue) =>
        `ends in ${JSON.stringify(reservedSuffixOf(String(issue.input)))}, which the library keeps for itself`,
    ),
  );

/** A clone set a restore reads: a set of the library by name, or a set elsewhere by its path. */
const setRef = () =>
  v.pipe(
    v.union([word(), absolutePath()], 'expected a set name or an absolute path'),
    v.check(
      (ref) => reservedSuffixOf(ref.split('/').at(-1) ?? '') === undefined,
      (issue) =>
        `ends in ${JSON.stringify(reservedSuffixOf(String(issue.input)))}, which the library keeps for itself`,
    ),
  );

const compression = () => oneOf(DIST_COMPRESSIONS);

/** A card as the user picked it; main checks it is still the same card before writing. */
export const CARD_REF = record({
  path: absolutePath(),
  kind: oneOf(['device', 'file']),
  bytes: int(),
  node: int(),
  model: v.optional(text({ max: 200 })),
  serial: v.optional(text({ max: 200 })),
  // A loop device's medium names its backing file, which may be a long path.
  medium: v.optional(text({ max: 4200 })),
  table: v.optional(text({ max: 100 })),
});
export type CardRef = v.InferOutput<typeof CARD_REF>;

/** The cards of one flash: one to sixteen. */
export const cards = () => list(CARD_REF, { min: 1, max: 16 });

export const JOB_REQUEST = byKind('kind', [
  record({ kind: v.literal('inspect'), path: absolutePath() }),
  record({
    kind: v.literal('insert'),
    base: absolutePath(),
    payload: absolutePath(),
    version: word(),
    tag: word(),
  }),
  record({
    kind: v.literal('flash'),
    image: absolutePath(),
    cards: cards(),
    verify: bool(),
    /** Cards (paths) with a `confirm` reason whose name the user typed. */
    confirmed: v.optional(list(absolutePath(), { max: 16 })),
  }),
  record({ kind: v.literal('clone'), card: CARD_REF, name: setName() }),
  /** `set`: a set of the library by name, or a set elsewhere by its path. */
  record({
    kind: v.literal('restore'),
    card: CARD_REF,
    set: setRef(),
    confirmed: v.optional(bool()),
  }),
  /** The card back to one FAT32 partition; `confirmed`: an unusual disk whose name was typed. */
  record({ kind: v.literal('erase'), card: CARD_REF, confirmed: v.optional(bool()) }),
  record({ kind: v.literal('verify'), card: absolutePath() }),
  record({
    kind: v.literal('shrink'),
    card: absolutePath(),
    version: word(),
    tag: word(),
    force: bool(),
    compress: v.optional(compression()),
  }),
  record({ kind: v.literal('archive'), path: absolutePath() }),
  record({ kind: v.literal('stage'), path: absolutePath() }),
  /** A clone set elsewhere copied into the library as golden-clone-NAME. */
  record({ kind: v.literal('adopt'), path: absolutePath(), name: v.optional(setName()) }),
  record({ kind: v.literal('vm-setup') }),
  record({ kind: v.literal('vm-start') }),
  record({ kind: v.literal('vm-stop') }),
  record({ kind: v.literal('vm-upgrade') }),
  /** The VM deleted and created from the template (confirmed); `importSecrets`: atlas_secrets.conf found inside it is imported, else it goes with the VM. */
  record({ kind: v.literal('vm-recreate'), importSecrets: bool() }),
]);
export type JobRequest = v.InferOutput<typeof JOB_REQUEST>;
export type JobKind = JobRequest['kind'];

/** A distributable clone image: compressed with xz or zstd (free space zeroed). */
export type DistCompressionDto = v.InferOutput<ReturnType<typeof compression>>;

export const NAME_PLAN_REQUEST = byKind('kind', [
  record({ kind: v.literal('golden-image'), version: word(), tag: word() }),
  record({
    kind: v.literal('clone-image'),
    version: word(),
    tag: word(),
    compress: v.optional(compression()),
  }),
  record({ kind: v.literal('clone-set'), name: word() }),
]);
export type NamePlanRequest = v.InferOutput<typeof NAME_PLAN_REQUEST>;

export const SETTINGS_PATCH = record({
  payloadDir: v.optional(v.nullable(absolutePath())),
  archiveDir: v.optional(absolutePath()),
});
export type SettingsPatch = v.InferOutput<typeof SETTINGS_PATCH>;

export const FILE_PURPOSE = oneOf(['base-image', 'image', 'card-image', 'secrets']);
export type FilePurpose = v.InferOutput<typeof FILE_PURPOSE>;

export const FOLDER_PURPOSE = oneOf(['payload', 'archive']);
export type FolderPurpose = v.InferOutput<typeof FOLDER_PURPOSE>;

/** Terminal columns or rows. */
export const cells = () => int({ min: 2, max: 1000 });

// The card a request names is the core's card identity without the reader flags: kept in step here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const cardRefInStep: Same<Required<CardRef>, Required<Omit<CardIdentity, 'removable' | 'readOnly'>>> = true;
void cardRefInStep;

/** A count check's new least number, kept in the library's own checklist. */
export const CHECKLIST_THRESHOLD = record({
  id: text({ min: 1, max: 40, pattern: /^[A-Za-z0-9_.-]+$/ }),
  min: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1_000_000)),
});
export type ChecklistThreshold = v.InferOutput<typeof CHECKLIST_THRESHOLD>;
