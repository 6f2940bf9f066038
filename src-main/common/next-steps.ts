/**
 * What the user can do next about an error, as data. The core says which step helps; the CLI
 * words each step as its commands and flags (src-main/cli/next-steps.ts), the app as its own
 * screens and buttons (src-renderer/next-steps.tsx). Advice that names neither stays in the
 * error's `hint` text.
 */
export type NextStep =
  /** Create the builder VM. */
  | { do: 'vm-setup' }
  /** Delete the VM and create it again, sharing `library` (the user's library when absent). */
  | { do: 'vm-recreate'; instance: string; library?: string }
  /** Recreating the VM found atlas_secrets.conf inside it: import it first, or let it go with the VM. */
  | { do: 'recreate-secrets'; instance: string }
  /** Upgrade a VM not made from the app's template in place: its missing tools, the work folder's mount. */
  | { do: 'vm-upgrade'; instance: string }
  /** Start the VM; a broken one is stopped forcibly first. */
  | { do: 'vm-start' }
  /** Stop the VM, then start it again. */
  | { do: 'vm-restart' }
  /** Run the VM doctor, which checks Lima, the VM and its shared folder. */
  | { do: 'vm-doctor' }
  /** Run again with root rights. */
  | { do: 'run-as-root' }
  /** Shrink although the Phase 1 checklist failed. */
  | { do: 'force' }
  /** Look at the card's Phase 1 checklist. */
  | { do: 'show-checklist' }
  /** Change a check's threshold in the checklist (`file`), when the card is as it should be. */
  | { do: 'edit-checklist'; check: string; file: string }
  /** Confirm an unusual disk (larger than an SD card, or internal) for this write. */
  | { do: 'confirm-large-disk' }
  /** Give the job an atlas_secrets.conf, or put one at `path`. */
  | { do: 'give-secrets'; path: string }
  /** Keep the secrets as a 0600 file (when no keyring is available). */
  | { do: 'import-secrets' }
  /** Use another library (work folder), inside `inside` when given. */
  | { do: 'choose-library'; inside?: string }
  /** Point the job at the ods-player-os-atlas checkout (or its scripts/ folder). */
  | { do: 'choose-payload' }
  /** See which clone sets the library holds. */
  | { do: 'list-sets' }
  /** Look at the card again (what it holds, its partitions). */
  | { do: 'inspect-card' }
  /** Copy the card whole as an image (a shrink) instead of a clone set. */
  | { do: 'copy-whole-card' }
  /** Write an image that is not a Raspberry Pi card image all the same. */
  | { do: 'flash-anyway' };

export type NextStepKind = NextStep['do'];

/** Every kind, for checks that each one is worded. */
export const NEXT_STEP_KINDS = [
  'vm-setup',
  'vm-recreate',
  'recreate-secrets',
  'vm-upgrade',
  'vm-start',
  'vm-restart',
  'vm-doctor',
  'run-as-root',
  'force',
  'show-checklist',
  'edit-checklist',
  'confirm-large-disk',
  'give-secrets',
  'import-secrets',
  'choose-library',
  'choose-payload',
  'list-sets',
  'inspect-card',
  'copy-whole-card',
  'flash-anyway',
] as const satisfies readonly NextStepKind[];

// Fails to compile when a kind is missing from the list above.
type Unlisted = Exclude<NextStepKind, (typeof NEXT_STEP_KINDS)[number]>;
export const ALL_KINDS_LISTED: [Unlisted] extends [never] ? true : never = true;

/** The first VM job among the steps that the app can run as it is (set the VM up, start it). */
export function vmJobOf(
  next: readonly NextStep[] | undefined,
): 'vm-setup' | 'vm-start' | 'vm-upgrade' | undefined {
  const step = next?.find((s) => s.do === 'vm-setup' || s.do === 'vm-start' || s.do === 'vm-upgrade');
  return step?.do === 'vm-setup' || step?.do === 'vm-start' || step?.do === 'vm-upgrade'
    ? step.do
    : undefined;
}
