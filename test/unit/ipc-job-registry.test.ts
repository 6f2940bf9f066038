// The job registry: start returns at once, events stream steps/progress/log/outcome, cancel
// ends a job as cancelled, and a card is used by one running job at a time.
import { describe, expect, it } from 'vitest';
import { AtlasError } from '../../src-main/core/errors.js';
import type { JobEventDto } from '../../src-main/common/contract.js';
import { JobRegistry } from '../../src-main/app/job-registry.js';

const verifyRequest = { kind: 'verify', card: '/dev/sdc' } as const;

function collect(reg: JobRegistry): JobEventDto[] {
  const events: JobEventDto[] = [];
  reg.subscribe((e) => events.push(e));
  return events;
}

describe('JobRegistry', () => {
  it('streams a job from start to outcome and keeps its summary', async () => {
    const reg = new JobRegistry({ progressIntervalMs: 0 });
    const events = collect(reg);
    const started = reg.start({
      request: verifyRequest,
      title: 'Verify sdc',
      locks: ['/dev/sdc'],
      run: async (ctx) => {
        ctx.step('probe', 'Reading the root file system', 100);
        ctx.progress(50);
        ctx.log('probing');
        ctx.progress(100);
        return { card: '/dev/sdc', title: 'checklist', ok: true, failed: 0, warnings: 0, checks: [] };
      },
    });
    expect(started.state).toBe('running');
    expect(started.kind).toBe('verify');
    const end = await reg.settled(started.id);
    expect(end.state).toBe('done');
    expect(end.outcome).toEqual({
      kind: 'verify',
      result: { card: '/dev/sdc', title: 'checklist', ok: true, failed: 0, warnings: 0, checks: [] },
    });
    expect(end.steps.map((s) => s.label)).toEqual(['Reading the root file system']);
    expect(end.log).toEqual(['probing']);
    expect(events.map((e) => e.type)).toEqual(['started', 'step', 'progress', 'log', 'progress', 'done']);
    const progress = events.filter((e) => e.type === 'progress');
    expect(progress.at(-1)).toMatchObject({ progress: { stepId: 'probe', doneBytes: 100, totalBytes: 100 } });
    // The events are plain data (they cross IPC and JSON).
    expect(JSON.parse(JSON.stringify(events))).toEqual(events);
  });

  it('reports a failure with its code and hint', async () => {
    const reg = new JobRegistry();
    const job = reg.start({
      request: verifyRequest,
      title: 'Verify',
      locks: [],
      run: async () => {
        throw new AtlasError('not-found', 'no such card', 'insert the card');
      },
    });
    const end = await reg.settled(job.id);
    expect(end.state).toBe('failed');
    expect(end.error).toEqual({ code: 'not-found', message: 'no such card', hint: 'insert the card' });
  });

  it('cancels a running job: its state is cancelled, not failed', async () => {
    const reg = new JobRegistry();
    const events = collect(reg);
    const job = reg.start({
      request: verifyRequest,
      title: 'Verify',
      locks: [],
      run: (ctx) =>
        new Promise((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => reject(new Error('killed')));
        }),
    });
    setTimeout(() => reg.cancel(job.id), 20);
    const end = await reg.settled(job.id);
    expect(end.state).toBe('cancelled');
    expect(end.error?.code).toBe('cancelled');
    expect(events.at(-1)).toMatchObject({ type: 'failed', state: 'cancelled' });
    expect(() => reg.cancel('no-such-job')).toThrow(/no job/);
  });

  it('refuses a second job on a card that a running job uses, and frees it afterwards', async () => {
    const reg = new JobRegistry();
    let release = () => undefined as void;
    const first = reg.start({
      request: verifyRequest,
      title: 'Clone sdc',
      locks: ['/dev/sdc'],
      run: () =>
        new Promise((r) => {
          release = () => r({ card: '/dev/sdc', title: '', ok: true, failed: 0, warnings: 0, checks: [] });
        }),
    });
    const second = {
      request: verifyRequest,
      title: 'Flash sdc',
      locks: ['/dev/sdc'],
      run: async () => null as never,
    };
    expect(() => reg.start(second)).toThrow(/in use by the running job "Clone sdc"/);
    expect(reg.holderOf('/dev/sdc')?.id).toBe(first.id);
    await new Promise((r) => setTimeout(r, 5));
    release();
    await reg.settled(first.id);
    expect(reg.holderOf('/dev/sdc')).toBeUndefined();
    const again = reg.start({
      ...second,
      run: async () => ({ card: '', title: '', ok: true, failed: 0, warnings: 0, checks: [] }),
    });
    expect((await reg.settled(again.id)).state).toBe('done');
  });

  it('keeps the other listeners when one throws, and lists running jobs', async () => {
    const reg = new JobRegistry();
    reg.subscribe(() => {
      throw new Error('window closed');
    });
    const events = collect(reg);
    const job = reg.start({
      request: verifyRequest,
      title: 'V',
      locks: [],
      run: async () => ({ card: '', title: '', ok: true, failed: 0, warnings: 0, checks: [] }),
    });
    expect(reg.running().map((j) => j.id)).toEqual([job.id]);
    await reg.settled(job.id);
    expect(events.map((e) => e.type)).toEqual(['started', 'done']);
    expect(reg.running()).toEqual([]);
    expect(reg.list()).toHaveLength(1);
  });

  it('cancelAll stops every running job and waits for its cleanup', async () => {
    const reg = new JobRegistry();
    let cleaned = 0;
    for (let i = 0; i < 3; i++) {
      reg.start({
        request: verifyRequest,
        title: `job ${i}`,
        locks: [],
        run: (ctx) =>
          new Promise((_r, reject) =>
            ctx.signal.addEventListener('abort', () =>
              setTimeout(() => {
                cleaned++;
                reject(new Error('stopped'));
              }, 10),
            ),
          ),
      });
    }
    await new Promise((r) => setTimeout(r, 5));
    await reg.cancelAll();
    expect(cleaned).toBe(3);
    expect(reg.list().every((j) => j.state === 'cancelled')).toBe(true);
  });
});
