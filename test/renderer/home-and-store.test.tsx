// @vitest-environment jsdom
// Home shows the phase lifecycle with the library at each phase; the jobs store follows the
// backend's event stream; the menu's navigation reaches the store.
import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { HomeScreen } from '../../src-renderer/components/home-screen';
import { reduceJobEvent } from '../../src-renderer/store/jobs-slice';
import { useStore } from '../../src-renderer/store/store';
import type { LibraryItem, VmStatusDto } from '../../src-main/common/contract';
import { EMPTY_LIBRARY, installFakeAtlas, summary } from './fake-atlas';
import { connect } from './setup';

const item = (name: string, kind: LibraryItem['kind'], phase: 0 | 1 | 2): LibraryItem => ({
  name,
  path: `/Users/me/atlas-build/${name}`,
  kind,
  phase,
  bytes: 1e9,
  modifiedAt: '2026-03-01T12:00:00Z',
  hasManifest: true,
  archived: false,
  staged: false,
});

describe('HomeScreen', () => {
  it('shows Insert → Clone → Shrink → deploy with what the library holds at each phase', async () => {
    installFakeAtlas({
      'library:list': () => ({
        ...EMPTY_LIBRARY,
        items: [
          item('ods-atlas-golden-v9-1-7-ORIGIN.img', 'golden-image', 0),
          item('golden-clone-v8-0-6-FLASH', 'clone-set', 1),
          item('golden-clone-v8-0-7-FLASH', 'clone-set', 1),
        ],
      }),
    });
    connect();
    render(<HomeScreen />);
    await act(async () => useStore.getState().refreshLibrary());
    const stages = within(screen.getByRole('list', { name: 'Phase lifecycle' }))
      .getAllByRole('listitem')
      .filter((li) => li.classList.contains('stage'));
    expect(stages.map((s) => s.querySelector('h3')!.textContent)).toEqual([
      'Insert',
      'Clone',
      'Verify + Shrink',
      'Flash',
    ]);
    expect(stages[0]!.textContent).toContain('1 in the library');
    expect(stages[0]!.textContent).toContain('ods-atlas-golden-v9-1-7-ORIGIN.img');
    expect(stages[1]!.textContent).toContain('2 in the library');
    expect(stages[2]!.textContent).toContain('none yet');
    expect(
      screen.getByText(/Insert creates Phase 0. Clone creates Phase 1. Never cross these./),
    ).toBeTruthy();
    fireEvent.click(within(stages[1]!).getByRole('button'));
    expect(useStore.getState().screen).toBe('clone');
  });
});

describe('the store and the backend events', () => {
  it('applies job events in order and ignores events of unknown jobs', () => {
    const job = summary({ kind: 'verify', card: '/c.img' }, { id: 'a' });
    let jobs = reduceJobEvent({}, { type: 'started', job });
    jobs = reduceJobEvent(jobs, {
      type: 'step',
      jobId: 'a',
      step: { id: 's', label: 'Reading', index: 0, totalBytes: 10 },
    });
    jobs = reduceJobEvent(jobs, {
      type: 'progress',
      jobId: 'a',
      progress: { stepId: 's', doneBytes: 5, totalBytes: 10, bytesPerSecond: 1, etaSeconds: 5 },
    });
    jobs = reduceJobEvent(jobs, { type: 'log', jobId: 'a', line: 'x' });
    expect(jobs.a).toMatchObject({
      steps: [{ id: 's' }],
      progress: { doneBytes: 5 },
      log: ['x'],
      state: 'running',
    });
    const same = reduceJobEvent(jobs, { type: 'log', jobId: 'zzz', line: 'y' });
    expect(same).toBe(jobs);
    jobs = reduceJobEvent(jobs, {
      type: 'step',
      jobId: 'a',
      step: { id: 't', label: 'Next', index: 1, totalBytes: 0 },
    });
    expect(jobs.a!.progress).toBeNull();
  });

  it('follows the menu and refreshes the library when it changes', async () => {
    const fake = installFakeAtlas();
    connect();
    act(() => fake.emit('menu:navigate', { screen: 'library' }));
    expect(useStore.getState().screen).toBe('library');
    await act(async () => fake.emit('library:changed', { reason: 'done' }));
    expect(fake.callsOf('library:list')).toHaveLength(1);
  });

  it("shows the VM's newest status when an older answer arrives last", async () => {
    // The first request (asked while the VM was stopped) answers after the second (asked after a
    // start failed): the chip must say broken, not go back to stopped.
    const answers: Array<(s: VmStatusDto) => void> = [];
    installFakeAtlas({ 'vm:status': () => new Promise<VmStatusDto>((r) => answers.push(r)) });
    const status = (state: VmStatusDto['state']): VmStatusDto => ({
      needed: true,
      name: 'atlas-build',
      state,
      detail: state,
      terminal: false,
    });
    const first = useStore.getState().refreshVm();
    const second = useStore.getState().refreshVm();
    await expect.poll(() => answers.length).toBe(2);
    answers[1]!(status('broken'));
    await second;
    answers[0]!(status('stopped'));
    await first;
    expect(useStore.getState().vm.status?.state).toBe('broken');
  });
});
