// @vitest-environment jsdom
// The app's words for the core's next steps: every kind is worded in the app's own screens and
// buttons (never the CLI's commands or flags), and a failed job shows them with the button that
// does the step.
import { act, fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { NEXT_STEP_KINDS } from '../../src-main/common/next-steps';
import { JobPanel } from '../../src-renderer/components/job-panel';
import { VmScreen } from '../../src-renderer/components/vm-screen';
import { appStep } from '../../src-renderer/next-steps';
import { useStore } from '../../src-renderer/store/store';
import { SAMPLE_STEPS } from '../helpers/next-steps';
import { installFakeAtlas, summary } from './fake-atlas';
import { connect } from './setup';

describe("the app's next steps", () => {
  it('words every kind in its own terms, each differently', () => {
    const words = NEXT_STEP_KINDS.map((k) => appStep(SAMPLE_STEPS[k]).text);
    expect(new Set(words).size).toBe(words.length);
    for (const w of words) {
      expect(w).toMatch(/^[A-Z].{10,}\.$/);
      expect(w).not.toMatch(/ods-sd|(^|\s)--[a-z]|sudo/);
    }
    expect(appStep({ do: 'vm-start' }).button).toEqual({ label: 'Start the VM', vmJob: 'vm-start' });
    expect(appStep(SAMPLE_STEPS['give-secrets']).text).toMatch(
      /^Import it with "Import secrets…" .*, or put it at \/lib\/scripts\/atlas_secrets.conf; never in git\.$/,
    );
    expect(appStep({ do: 'choose-payload' }).text).toMatch(/ods-player-os-atlas checkout/);
  });

  function failedClone(next: unknown) {
    const fake = installFakeAtlas();
    connect();
    act(() => useStore.getState().setScreen('clone'));
    act(() => {
      fake.job({
        type: 'started',
        job: summary(
          {
            kind: 'clone',
            card: { path: '/dev/disk4', kind: 'device', bytes: 32e9, node: 1 },
            name: 'v8-1-0-X',
          } as never,
          {
            id: 'j1',
            title: 'Clone disk4',
          },
        ),
      });
      fake.job({
        type: 'failed',
        jobId: 'j1',
        state: 'failed',
        endedAt: new Date().toISOString(),
        error: {
          code: 'tool-failed',
          message: 'the atlas-build VM stopped while clone_card.sh was running in it',
          hint: 'run the job again once the VM runs',
          next,
        } as never,
      });
    });
    render(<JobPanel jobId="j1" />);
    return fake;
  }

  it('a failed job shows the step in words, with the button that does it', async () => {
    const fake = failedClone([{ do: 'vm-start' }, { do: 'vm-doctor' }]);
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('run the job again once the VM runs');
    const steps = screen.getByRole('list', { name: 'Next steps' });
    expect(steps.textContent).toContain(
      'Start the VM on the Build VM screen (a broken VM is stopped first).',
    );
    expect(steps.textContent).toContain('Run the doctor on the Build VM screen.');
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Start the VM' })));
    expect(fake.calls).toContainEqual({ channel: 'jobs:start', args: [{ kind: 'vm-start' }] });
    fireEvent.click(screen.getByRole('button', { name: 'Open the Build VM screen' }));
    expect(useStore.getState().screen).toBe('vm');
    // On the VM screen its own controls do it: the step stays, its buttons go.
    expect(screen.getByRole('list', { name: 'Next steps' }).textContent).toContain(
      'Start the VM on the Build VM screen',
    );
    expect(screen.queryByRole('button', { name: 'Start the VM' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Open the Build VM screen' })).toBeNull();
  });

  it('a step with a screen of its own opens it', () => {
    failedClone([{ do: 'list-sets' }]);
    fireEvent.click(screen.getByRole('button', { name: 'Open the Library' }));
    expect(useStore.getState().screen).toBe('library');
  });

  it("the doctor's findings say their steps in the app's words, with the VM job as the Fix button", async () => {
    const fake = installFakeAtlas({
      'vm:status': () => ({
        needed: true,
        name: 'atlas-build',
        state: 'stopped',
        detail: 'Stopped',
        terminal: false,
      }),
      'vm:doctor': () => ({
        ok: false,
        findings: [
          {
            id: 'vm',
            ok: false,
            severity: 'error',
            message: 'the atlas-build VM: Stopped',
            next: [{ do: 'vm-start' }],
            action: 'vm-start',
          },
          {
            id: 'disk-space',
            ok: false,
            severity: 'error',
            message: 'free space in the library: 2 GB free',
            hint: 'free some space',
            next: [{ do: 'choose-library' }],
          },
        ],
      }),
    });
    connect();
    act(() => useStore.getState().setScreen('vm'));
    render(<VmScreen />);
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Run the doctor' })));
    const findings = screen.getByRole('list', { name: 'Doctor findings' });
    expect(findings.textContent).toContain(
      'Start the VM on the Build VM screen (a broken VM is stopped first).',
    );
    expect(findings.textContent).toContain(
      'free some space Or use a library on a disk with more room (start the app with ATLAS_LIBRARY set to it).',
    );
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Fix: start the VM' })));
    expect(fake.calls).toContainEqual({ channel: 'jobs:start', args: [{ kind: 'vm-start' }] });
  });
});
