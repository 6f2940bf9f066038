import { describe, expect, it } from 'vitest';
import { RateMeter } from '../../src-main/core/jobs/rate-meter.js';
import { startJob, type JobEvent } from '../../src-main/core/jobs/job.js';
import { AtlasError } from '../../src-main/core/errors.js';

describe('RateMeter', () => {
  it('measures speed over the last 2 s and derives the ETA', () => {
    const m = new RateMeter(2000);
    m.sample(0, 0);
    m.sample(1000, 10_000_000);
    expect(m.rate()).toBe(10_000_000);
    expect(m.eta(10_000_000, 50_000_000)).toBe(4);
    // The speed drops: the old samples leave the window.
    m.sample(3000, 12_000_000);
    m.sample(5000, 14_000_000);
    expect(m.rate()).toBeCloseTo(1_000_000, -3);
    expect(new RateMeter().eta(0, 10)).toBeUndefined();
  });
});

describe('Job', () => {
  it('emits steps, throttled progress with speed/ETA, logs and the result', async () => {
    let t = 0;
    const job = startJob(
      'test',
      async (ctx) => {
        ctx.step('a', 'Step A', 100);
        for (let i = 1; i <= 100; i++) {
          t += 10;
          ctx.progress(i);
        }
        ctx.log('hello');
        ctx.step('b', 'Step B');
        return 42;
      },
      { now: () => t, progressIntervalMs: 250 },
    );
    const events: JobEvent[] = [];
    job.on('event', (e) => events.push(e));
    await expect(job.promise).resolves.toBe(42);
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('step');
    expect(types.at(-1)).toBe('done');
    const progress = events.filter((e) => e.type === 'progress');
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.length).toBeLessThan(10);
    const last = progress.at(-1)!;
    expect(last).toMatchObject({ doneBytes: 100, totalBytes: 100 });
    expect(last.type === 'progress' && last.bytesPerSecond).toBeCloseTo(100, 0);
    expect(events.find((e) => e.type === 'step' && e.step.id === 'b')).toMatchObject({ step: { index: 1 } });
    expect(job.log).toEqual(['hello']);
  });

  it('turns a failure into a typed, serializable error event', async () => {
    const job = startJob('failing', async () => {
      throw new AtlasError('too-small', 'card too small', 'use a larger card');
    });
    const events: JobEvent[] = [];
    job.on('event', (e) => events.push(e));
    await expect(job.promise).rejects.toMatchObject({ code: 'too-small' });
    expect(events.at(-1)).toMatchObject({
      type: 'failed',
      error: { code: 'too-small', message: 'card too small', hint: 'use a larger card' },
    });
    expect(job.state).toBe('failed');
  });

  it('cancellation aborts the signal and ends as cancelled', async () => {
    const job = startJob(
      'slow',
      (ctx) =>
        new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')))),
    );
    setTimeout(() => job.cancel(), 10);
    await expect(job.promise).rejects.toMatchObject({ code: 'cancelled' });
    expect(job.state).toBe('cancelled');
  });

  it('a job cancelled before it starts never runs its work', async () => {
    let ran = false;
    const job = startJob('never', async () => {
      ran = true;
    });
    job.cancel();
    await expect(job.promise).rejects.toMatchObject({ code: 'cancelled' });
    expect(ran).toBe(false);
    expect(job.state).toBe('cancelled');
  });
});
