/**
 * The app's words for the core's next steps: its own screens and buttons. Where the app can do
 * the step itself (set the VM up, start it) or has a screen for it, the step comes with a button,
 * unless the screen shown already offers it.
 */
import type { NextStep } from '../src-main/common/next-steps';
import type { Screen } from '../src-main/common/contract';
import { useStore } from './store/store';

/** What a step's button does: run a VM job, or open the screen where the step is done. */
export type StepButton = { label: string } & (
  { vmJob: 'vm-setup' | 'vm-start' | 'vm-upgrade' } | { screen: Screen }
);

export interface AppStep {
  text: string;
  button?: StepButton;
}

const VM_SCREEN: StepButton = { label: 'Open the Build VM screen', screen: 'vm' };

const WORDING: { [K in NextStep['do']]: (step: Extract<NextStep, { do: K }>) => AppStep } = {
  'vm-setup': () => ({
    text: 'Set up the VM on the Build VM screen.',
    button: { label: 'Set up the VM', vmJob: 'vm-setup' },
  }),
  'vm-recreate': (s) => ({
    text: `Recreate the ${s.instance} VM from Atlas Imager's template with “Recreate from the template…” on the Build VM screen: it says what is lost and asks first${s.library ? `; the new VM shares ${s.library} as the library` : ''}.`,
    button: VM_SCREEN,
  }),
  'recreate-secrets': () => ({
    text: 'Recreate it again and tick “Import atlas_secrets.conf from the old VM”, or leave it unticked to let the file go with the VM.',
    button: VM_SCREEN,
  }),
  'vm-upgrade': (s) => ({
    text: `Upgrade the ${s.instance} VM in place: the missing tools are installed in it, and the library is shared with it while it is stopped; nothing is deleted.`,
    button: { label: 'Upgrade in place', vmJob: 'vm-upgrade' },
  }),
  'vm-start': () => ({
    text: 'Start the VM on the Build VM screen (a broken VM is stopped first).',
    button: { label: 'Start the VM', vmJob: 'vm-start' },
  }),
  'vm-restart': () => ({
    text: 'Stop the VM, then start it again, on the Build VM screen.',
    button: VM_SCREEN,
  }),
  'vm-doctor': () => ({ text: 'Run the doctor on the Build VM screen.', button: VM_SCREEN }),
  'run-as-root': () => ({ text: 'Try again, and allow the administrator prompt when the app asks for it.' }),
  force: () => ({ text: 'Or tick “Shrink anyway” on the Verify + Shrink screen.' }),
  'show-checklist': () => ({ text: 'The checklist on the Verify + Shrink screen shows the evidence.' }),
  'edit-checklist': (s) => ({
    text: `Or, if the card is as it should be, lower the threshold of "${s.check}" with “Change the threshold” beside it on the Verify + Shrink screen (kept in your own checklist, ${s.file} is not changed).`,
  }),
  'confirm-large-disk': () => ({ text: "If it is, type the disk's name in the Flash screen to confirm it." }),
  'give-secrets': (s) => ({
    text: `Import it with "Import secrets…" on the Insert screen (the app keeps it encrypted), or put it at ${s.path}; never in git.`,
    button: { label: 'Open the Insert screen', screen: 'insert' },
  }),
  'import-secrets': () => ({ text: 'Or keep atlas_secrets.conf as a 0600 file beside the payload.' }),
  'choose-library': (s) => ({
    text: s.inside
      ? `Use a library inside ${s.inside} (start the app with ATLAS_LIBRARY set to it).`
      : 'Or use a library on a disk with more room (start the app with ATLAS_LIBRARY set to it).',
  }),
  'choose-payload': () => ({
    text: 'Choose your ods-player-os-atlas checkout (or its scripts/ folder) as the payload on the Insert screen.',
    button: { label: 'Open the Insert screen', screen: 'insert' },
  }),
  'list-sets': () => ({
    text: 'The Library screen lists the clone sets.',
    button: { label: 'Open the Library', screen: 'library' },
  }),
  'inspect-card': () => ({ text: 'Check the card: take it out, insert it again and pick it again.' }),
  'copy-whole-card': () => ({
    text: 'Or copy the card whole as an image instead, on the Verify + Shrink screen.',
    button: { label: 'Open Verify + Shrink', screen: 'shrink' },
  }),
  'flash-anyway': () => ({
    text: 'The app writes Raspberry Pi card images only; another file can be written from the command line.',
  }),
};

/** One step in the app's words. */
export function appStep(step: NextStep): AppStep {
  return (WORDING[step.do] as (s: NextStep) => AppStep)(step);
}

/** The steps as one line of text, for places that show text only (a card's row, a notice). */
export function appStepsText(next: readonly NextStep[] | undefined): string {
  return (next ?? []).map((s) => appStep(s).text).join(' ');
}

function StepAction({ button, disabled }: { button: StepButton; disabled?: boolean }) {
  return (
    <button
      type="button"
      className="button secondary small"
      disabled={disabled}
      onClick={() => {
        const a = useStore.getState();
        if ('vmJob' in button) void a.startVmJob(button.vmJob);
        else a.setScreen(button.screen);
      }}
    >
      {button.label}
    </button>
  );
}

/** Where the button would only repeat the screen's own controls: the VM jobs and the screen itself. */
function repeatsScreen(button: StepButton, screen: Screen): boolean {
  return 'vmJob' in button ? screen === 'vm' : button.screen === screen;
}

/** The steps, each in the app's words with its button (none that the shown screen already has). */
export function NextSteps({ next, disabled }: { next: readonly NextStep[] | undefined; disabled?: boolean }) {
  const screen = useStore((s) => s.screen);
  if (!next?.length) return null;
  return (
    <ul className="next-steps" aria-label="Next steps">
      {next.map((s, i) => {
        const w = appStep(s);
        return (
          <li key={`${s.do}-${i}`}>
            <span>{w.text}</span>{' '}
            {w.button && !repeatsScreen(w.button, screen) && (
              <StepAction button={w.button} disabled={disabled} />
            )}
          </li>
        );
      })}
    </ul>
  );
}
