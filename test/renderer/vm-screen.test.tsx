// @vitest-environment jsdom
// The Build VM screen keeps the doctor's findings current: a VM job that ends checks again, and a
// slow answer from before the job ended never replaces a newer one.
import { act, fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { VmScreen } from '../../src-renderer/components/vm-screen';
import { useStore } from '../../src-renderer/store/store';
import type { DoctorReportDto, VmRecreatePreview, VmStatusDto } from '../../src-main/common/contract';
import { installFakeAtlas } from './fake-atlas';
import { connect } from './setup';

const status: VmStatusDto = {
  needed: true,
  name: 'atlas-build',
  state: 'stopped',
  detail: 'Stopped',
  terminal: false,
};
const report = (message: string): DoctorReportDto => ({
  ok: false,
  findings: [
    { id: 'vm', ok: false, severity: 'error', message, next: [{ do: 'vm-start' }], action: 'vm-start' },
  ],
});

describe('the Build VM screen', () => {
  it('checks again when a VM job ends while the first doctor run is still under way', async () => {
    const doctors: Array<(r: DoctorReportDto) => void> = [];
    const fake = installFakeAtlas({
      'vm:status': () => status,
      'vm:doctor': () => new Promise<DoctorReportDto>((r) => doctors.push(r)),
    });
    connect();
    render(<VmScreen />);
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Run the doctor' })));
    // A start begins before the doctor answers, and fails.
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Start' })));
    const id = useStore.getState().vm.jobId!;
    expect(id).toBeTruthy();
    act(() =>
      fake.job({
        type: 'failed',
        jobId: id,
        state: 'failed',
        error: { code: 'tool-failed', message: 'the atlas-build VM did not start' },
        endedAt: '2026-12-02T12:00:00Z',
      }),
    );
    await expect.poll(() => doctors.length).toBe(2);
    // The run asked after the failure answers first; the one from the middle of the start, last.
    await act(async () => doctors[1]!(report('the atlas-build VM: Broken: host agent process has exited')));
    await act(async () => doctors[0]!(report('the atlas-build VM: Stopped')));
    const findings = screen.getByRole('list', { name: 'Doctor findings' });
    expect(findings.textContent).toContain('Broken: host agent process has exited');
    expect(findings.textContent).not.toContain('VM: Stopped');
  });

  it('“Recreate from the template…” says what is lost, offers to import the secrets inside it, and starts only when confirmed', async () => {
    const preview: VmRecreatePreview = {
      instance: 'atlas-build',
      state: 'Running',
      diskBytes: 21474836480,
      usedBytes: 3e9,
      sharedFolders: ['/Users/me/Documents/GitHub', '/tmp/lima-sd-work'],
      protected: false,
      lost: [
        'the atlas-build VM and its disk (21.5 GB disk as limactl reports it, 3.0 GB used on this computer)',
        'everything inside the guest that is not on a shared folder: /home/me.guest, the packages installed in it, /var/lib/atlas-build and every other file on its own disk',
        'atlas_secrets.conf inside the guest: /home/me.guest/atlas-build/scripts/atlas_secrets.conf (not on a shared folder: import it first)',
      ],
      secrets: [{ path: '/home/me.guest/atlas-build/scripts/atlas_secrets.conf', bytes: 64 }],
    };
    const fake = installFakeAtlas({
      'vm:status': () => ({ ...status, state: 'running', detail: 'Running', terminal: true }),
      'vm:recreate-preview': () => preview,
    });
    connect();
    render(<VmScreen />);
    const recreate = await screen.findByRole('button', { name: 'Recreate from the template…' });
    const recreateJobs = () => fake.callsOf('jobs:start').filter(([r]) => r.kind === 'vm-recreate');

    // Asked, then cancelled: nothing starts.
    await act(async () => fireEvent.click(recreate));
    const dialog = await screen.findByRole('dialog', { name: 'Recreate the atlas-build VM?' });
    const lost = screen.getByRole('list', { name: 'What is lost' });
    expect(lost.textContent).toContain('21.5 GB disk as limactl reports it');
    expect(lost.textContent).toContain('everything inside the guest that is not on a shared folder');
    expect(dialog.textContent).toContain(
      'Kept, on this computer: /Users/me/Documents/GitHub, /tmp/lima-sd-work.',
    );
    const box = screen.getByRole('checkbox', { name: /Import atlas_secrets\.conf from the old VM/ });
    expect((box as HTMLInputElement).checked).toBe(true);
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Cancel' })));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(recreateJobs()).toEqual([]);

    // Confirmed with the box left ticked: the secrets are imported first.
    await act(async () => fireEvent.click(recreate));
    await screen.findByRole('dialog');
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Delete and recreate' })));
    expect(recreateJobs()).toEqual([[{ kind: 'vm-recreate', importSecrets: true }]]);
    expect(useStore.getState().vm.jobId).toBe('job-vm-recreate');

    // Confirmed with it unticked: the file goes with the VM, as the box says.
    act(() =>
      fake.job({
        type: 'done',
        jobId: 'job-vm-recreate',
        endedAt: '2026-12-07T12:00:00Z',
        outcome: {
          kind: 'vm-recreate',
          result: {
            instance: 'atlas-build',
            deleted: preview,
            imported: { from: `atlas-build:${preview.secrets[0]!.path}`, keys: ['ROOT_PASSWORD'] },
            discarded: [],
            state: 'Running',
          },
        },
      }),
    );
    expect(document.body.textContent).toContain(
      'The VM atlas-build was recreated from the template: Running.',
    );
    await act(async () =>
      fireEvent.click(screen.getByRole('button', { name: 'Recreate from the template…' })),
    );
    await screen.findByRole('dialog');
    await act(async () =>
      fireEvent.click(screen.getByRole('checkbox', { name: /Import atlas_secrets\.conf from the old VM/ })),
    );
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Delete and recreate' })));
    expect(recreateJobs().at(-1)).toEqual([{ kind: 'vm-recreate', importSecrets: false }]);
  });
});
