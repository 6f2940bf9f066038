// @vitest-environment jsdom
// The Build VM screen keeps the doctor's findings current: a VM job that ends checks again, and a
// slow answer from before the job ended never replaces a newer one.
import { act, fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { VmScreen } from '../../src-renderer/components/vm-screen';
import { useStore } from '../../src-renderer/store/store';
import type { DoctorReportDto, VmStatusDto } from '../../src-main/ipc/contract';
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
});
