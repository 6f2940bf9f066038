// @vitest-environment jsdom
// The app's words for the core's next steps: every kind is worded in the app's own screens and
// buttons (never the CLI's commands or flags), and a failed job shows them with the button that
// does the step.
import { act, fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { NEXT_STEP_KINDS } from '../../src-main/common/next-steps';
import { JobPanel } from '../../src-renderer/components/job-panel';
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
});
