// @vitest-environment jsdom
// A job as the user sees it: steps, progress with speed and ETA, log, cancel; then the outcome,
// the error with what to do next, or the cancellation.
import { act, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JobPanel } from '../../src-renderer/components/job-panel';
import { useStore } from '../../src-renderer/store/store';
import { installFakeAtlas, summary } from './fake-atlas';
import { connect } from './setup';

const request = {
  kind: 'clone',
  card: { path: '/dev/disk4', kind: 'device', bytes: 32e9, node: 1 },
  name: 'v8-1-0-FEATURE',
} as const;

function running() {
  const fake = installFakeAtlas();
  connect();
  const job = summary(request, { id: 'j1', title: 'Clone disk4 to golden-clone-v8-1-0-FEATURE' });
  act(() => {
    fake.job({ type: 'started', job });
    fake.job({
      type: 'step',
      jobId: 'j1',
      step: { id: 'boot', label: 'Cloning the boot partition', index: 0, totalBytes: 0 },
    });
    fake.job({
      type: 'step',
      jobId: 'j1',
      step: { id: 'root', label: 'Cloning the root partition', index: 1, totalBytes: 1e9 },
    });
    fake.job({
      type: 'progress',
      jobId: 'j1',
      progress: { stepId: 'root', doneBytes: 420e6, totalBytes: 1e9, bytesPerSecond: 10e6, etaSeconds: 58 },
    });
    fake.job({ type: 'log', jobId: 'j1', line: 'partclone.ext4: 42%' });
  });
  render(<JobPanel jobId="j1" />);
  return fake;
}

afterEach(() => {
  delete (Element.prototype as { scrollIntoView?: unknown }).scrollIntoView;
});

describe('JobPanel', () => {
  it('one progress for the whole job: the steps weighted by their bytes, the step count, one time left', () => {
    const fake = installFakeAtlas();
    connect();
    const step = (id: string, index: number, totalBytes: number) =>
      ({ type: 'step', jobId: 'i1', step: { id, label: `${id} step`, index, totalBytes } }) as const;
    act(() => {
      fake.job({ type: 'started', job: summary(request, { id: 'i1', title: 'Insert: golden' }) });
      fake.job(step('copy', 0, 3e9));
      fake.job({
        type: 'progress',
        jobId: 'i1',
        progress: { stepId: 'copy', doneBytes: 3e9, totalBytes: 3e9, bytesPerSecond: 100e6, etaSeconds: 0 },
      });
      fake.job(step('inspect', 1, 0));
      fake.job(step('checksum', 2, 0));
      // The size of a step may come with its first progress.
      fake.job({
        type: 'progress',
        jobId: 'i1',
        progress: {
          stepId: 'checksum',
          doneBytes: 0.5e9,
          totalBytes: 1e9,
          bytesPerSecond: 50e6,
          etaSeconds: 10,
        },
      });
    });
    render(<JobPanel jobId="i1" />);
    const bars = screen.getAllByRole('progressbar');
    expect(bars).toHaveLength(1);
    // 3 GB copied and 0.5 GB of 1 GB summed: 3.5 of 4 GB, not 50 % of the checksum alone.
    expect(bars[0]!.getAttribute('aria-valuenow')).toBe('87');
    const numbers = document.querySelector('.progress-numbers')!.textContent;
    expect(numbers).toContain('Step 3: checksum step');
    expect(numbers).toContain('10 s left');
  });

  it('brings a job that starts to where the eye is', () => {
    const scrolled = vi.fn();
    Object.defineProperty(Element.prototype, 'scrollIntoView', { value: scrolled, configurable: true });
    running();
    expect(scrolled).toHaveBeenCalled();
    expect(scrolled.mock.contexts[0]).toBe(screen.getByRole('region', { name: /Clone disk4/ }));
  });

  it('shows the steps, a progress bar with percent, bytes, speed and ETA, and the log', () => {
    running();
    const panel = screen.getByRole('region', { name: /Clone disk4/ });
    expect(panel.textContent).toContain('✓Cloning the boot partition');
    expect(panel.textContent).toContain('●Cloning the root partition');
    expect(screen.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('42');
    const numbers = panel.querySelector('.progress-numbers')!.textContent;
    expect(numbers).toContain('42%');
    expect(numbers).toContain('420 MB of 1.0 GB');
    expect(numbers).toContain('10.0 MB/s');
    expect(numbers).toContain('58 s left');
    expect(screen.getByText('Log (1 lines)')).toBeTruthy();
  });

  it('cancels through the backend', async () => {
    const fake = running();
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Cancel' })));
    expect(fake.callsOf('jobs:cancel')).toEqual([['j1']]);
  });

  it('says what failed and what to do next', () => {
    const fake = running();
    act(() =>
      fake.job({
        type: 'failed',
        jobId: 'j1',
        state: 'failed',
        endedAt: new Date().toISOString(),
        error: { code: 'no-space', message: 'the work directory ran out of space', hint: 'free some space' },
      }),
    );
    expect(screen.getByRole('alert').textContent).toContain('the work directory ran out of space');
    expect(screen.getByRole('alert').textContent).toContain('What to do next: free some space');
    expect(screen.queryByRole('button', { name: 'Cancel' })).toBeNull();
    expect(screen.queryByRole('progressbar')).toBeNull();
    expect(useStore.getState().jobs.j1!.state).toBe('failed');
  });

  it('reports a cancellation as such, not as an error', () => {
    const fake = running();
    act(() =>
      fake.job({
        type: 'failed',
        jobId: 'j1',
        state: 'cancelled',
        endedAt: new Date().toISOString(),
        error: { code: 'cancelled', message: 'Clone was cancelled; nothing half-written was kept' },
      }),
    );
    expect(screen.getByText(/nothing half-written was kept/)).toBeTruthy();
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.getByText('Cancelled', { selector: '.badge' })).toBeTruthy();
  });

  it("a VM setup shows every named step from the start, the current one with Lima's line, and which step of how many", () => {
    const fake = installFakeAtlas();
    connect();
    const plan = [
      { id: 'vm-create', label: 'Create the VM from lima/atlas-build.yaml' },
      { id: 'vm-download', label: 'Download the Debian image' },
      { id: 'vm-boot', label: 'Boot the VM' },
      { id: 'vm-connect', label: 'Connect over ssh' },
      { id: 'vm-provision', label: 'Provision: install the disk tools' },
      { id: 'vm-probe', label: 'Check the disk tools in the VM' },
    ];
    const step = (i: number) =>
      ({ type: 'step', jobId: 'vm1', step: { ...plan[i]!, index: i, totalBytes: 0 } }) as const;
    act(() => {
      fake.job({
        type: 'started',
        job: summary({ kind: 'vm-setup' }, { id: 'vm1', title: 'Set up the atlas-build VM' }),
      });
      fake.job({ type: 'plan', jobId: 'vm1', steps: plan });
      fake.job(step(0));
      fake.job(step(1));
      fake.job(step(2));
      fake.job({
        type: 'log',
        jobId: 'vm1',
        line: '[hostagent] Starting VZ (hint: to watch the boot progress, see serial*.log)',
      });
    });
    render(<JobPanel jobId="vm1" />);
    const items = () =>
      [...screen.getByRole('list', { name: 'Steps' }).querySelectorAll(':scope > li')].map(
        (li) => `${li.className} ${li.textContent}`,
      );
    expect(items()).toEqual([
      'done ✓Create the VM from lima/atlas-build.yaml',
      'done ✓Download the Debian image',
      'current ●Boot the VM[hostagent] Starting VZ (hint: to watch the boot progress, see serial*.log)',
      'pending ○Connect over ssh',
      'pending ○Provision: install the disk tools',
      'pending ○Check the disk tools in the VM',
    ]);
    const bar = screen.getByRole('progressbar', { name: 'Overall progress' });
    expect(bar.getAttribute('aria-valuenow')).toBe('33');
    expect(screen.getByRole('region', { name: /Set up the atlas-build VM/ }).textContent).toContain(
      'Step 3 of 6',
    );

    // The probe fails: the steps before it are done, it is marked as where the job stopped.
    act(() => {
      fake.job(step(3));
      fake.job(step(4));
      fake.job(step(5));
      fake.job({
        type: 'failed',
        jobId: 'vm1',
        state: 'failed',
        endedAt: new Date().toISOString(),
        error: { code: 'missing-tool', message: 'the atlas-build VM lacks partclone', hint: 'install them' },
      });
    });
    expect(items().slice(3)).toEqual([
      'done ✓Connect over ssh',
      'done ✓Provision: install the disk tools',
      'stopped ✕Check the disk tools in the VM',
    ]);
    expect(screen.queryByRole('progressbar')).toBeNull();
    expect(screen.getByRole('alert').textContent).toContain('the atlas-build VM lacks partclone');
  });

  it('a VM start of a running VM: the steps it did not need are shown as skipped', () => {
    const fake = installFakeAtlas();
    connect();
    const plan = [
      { id: 'vm-boot', label: 'Boot the VM' },
      { id: 'vm-connect', label: 'Connect over ssh' },
      { id: 'vm-probe', label: 'Check the disk tools in the VM' },
    ];
    act(() => {
      fake.job({
        type: 'started',
        job: summary({ kind: 'vm-start' }, { id: 'vm2', title: 'Start the atlas-build VM' }),
      });
      fake.job({ type: 'plan', jobId: 'vm2', steps: plan });
      fake.job({ type: 'step', jobId: 'vm2', step: { ...plan[0]!, index: 0, totalBytes: 0 } });
      fake.job({ type: 'step', jobId: 'vm2', step: { ...plan[2]!, index: 1, totalBytes: 0 } });
      fake.job({
        type: 'done',
        jobId: 'vm2',
        outcome: { kind: 'vm-start', result: {} } as never,
        endedAt: new Date().toISOString(),
      });
    });
    render(<JobPanel jobId="vm2" />);
    const list = screen.getByRole('list', { name: 'Steps' });
    expect([...list.querySelectorAll(':scope > li')].map((li) => li.className)).toEqual([
      'done',
      'skipped',
      'done',
    ]);
  });
});
