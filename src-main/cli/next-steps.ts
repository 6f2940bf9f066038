/**
 * The CLI's words for the core's next steps: its own commands and flags. An error's `hint:` line
 * is its plain advice followed by these, and its --json error carries the same text as `hint`
 * (with the steps themselves as `next`).
 */
import type { NextStep } from '../common/next-steps.js';
import type { SerializedError } from '../common/error-codes.js';
import { shownText } from '../common/shown-text.js';

const WORDING: { [K in NextStep['do']]: (step: Extract<NextStep, { do: K }>) => string } = {
  'vm-setup': () => 'create the VM: ods-sd vm setup',
  'vm-recreate': (s) =>
    `recreate the ${s.instance} VM from Atlas Imager's template: ods-sd vm recreate --library ${s.library ?? 'DIR'} (it says what is lost and asks first; the new VM shares that folder read-write)`,
  'recreate-secrets': () =>
    'run ods-sd vm recreate again with --import-secrets (kept in the library, 0600) or --discard-secrets (it is deleted with the VM)',
  'vm-upgrade': (s) =>
    `upgrade the ${s.instance} VM in place: ods-sd vm upgrade (installs the missing tools; shares the library while the VM is stopped; deletes nothing)`,
  'vm-start': () => 'start it: ods-sd vm start (it repairs a broken VM with limactl stop -f, then start)',
  'vm-restart': () => 'ods-sd vm stop, then ods-sd vm start',
  'vm-doctor': () => 'check the VM: ods-sd vm doctor',
  'run-as-root': () => 'run ods-sd as root (sudo ods-sd …)',
  force: () => 'or pass --force to shrink anyway',
  'show-checklist': () => 'ods-sd verify shows the evidence',
  'edit-checklist': (s) =>
    `or, if the card is as it should be, lower the threshold of check "${s.check}": copy ${s.file}, change its "min", and pass --checklist FILE`,
  'confirm-large-disk': () => 'if it is, pass --allow-large-disk (a disk larger than 256 GB, or internal)',
  'give-secrets': (s) => `pass --secrets FILE, or put it at ${s.path} (never in git)`,
  'import-secrets': () => 'or keep the file with `ods-sd secrets import FILE` (a 0600 file)',
  'choose-library': (s) =>
    s.inside ? `use a --library inside ${s.inside}` : 'or choose another --out-dir/--library',
  'choose-payload': () => 'point --payload at your ods-player-os-atlas checkout or at its scripts/ folder',
  'list-sets': () => 'run ods-sd list to see the clone sets',
  'inspect-card': () => 'check the card: ods-sd inspect CARD',
  'copy-whole-card': () => 'or copy the card whole as an image instead (ods-sd shrink or a raw copy)',
  'flash-anyway': () => 'to write this file all the same, pass --force',
};

/** One step in the CLI's words. */
export function cliStep(step: NextStep): string {
  return (WORDING[step.do] as (s: NextStep) => string)(step);
}

/** The advice and the steps as the one line the CLI prints after `hint:`; undefined when none. */
export function cliHint(e: {
  hint?: string | undefined;
  next?: readonly NextStep[] | undefined;
}): string | undefined {
  const parts = [...(e.hint ? [e.hint] : []), ...(e.next ?? []).map(cliStep)];
  return parts.length ? parts.join('; ') : undefined;
}

/** The error as the CLI prints it on stderr: `error:` and, when there is one, `hint:`. */
export function cliErrorText(e: {
  message: string;
  hint?: string | undefined;
  next?: readonly NextStep[];
}): string {
  const hint = cliHint(e);
  // Each line shown escaped: a value quoted in a message can neither clear the screen nor fake a line.
  const lines = (t: string) => t.split('\n').map(shownText).join('\n');
  return `error: ${lines(e.message)}\n${hint ? `hint: ${lines(hint)}\n` : ''}`;
}

/** The error as the CLI's --json output carries it: `hint` in the CLI's words, `next` as data. */
export function cliErrorJson(e: SerializedError): SerializedError {
  const hint = cliHint(e);
  return {
    code: e.code,
    message: e.message,
    ...(hint === undefined ? {} : { hint }),
    ...(e.next?.length ? { next: e.next } : {}),
  };
}
