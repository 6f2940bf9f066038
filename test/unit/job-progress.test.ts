// One progress for a whole job: weighed by the bytes its plan announced, it never starts again at
// a later step, whatever that step learns about its own size when it starts.
import { describe, expect, it } from 'vitest';
import { JobRegistry } from '../../src-main/app/job-registry.js';
import type { JobContext } from '../../src-main/core/jobs/job.js';
import type { JobSummary } from '../../src-main/common/contract.js';
import { insertPlan } from '../../src-main/core/phases/insert.js';
import { overallProgress, placeSteps } from '../../src-renderer/lib/job-progress.js';

const SIZE = 2_147_483_648; // a 2 GiB base image
const request = { kind: 'verify', card: '/tmp/card.img' } as const;

/** What Insert reports, in its order: the copy and the checksum learn their size as they go. */
async function insertSequence(ctx: JobContext, plan: boolean): Promise<void> {
  if (plan) ctx.plan?.(insertPlan('/lib/Armbian.img', SIZE));
  ctx.step('copy', 'Copying Armbian.img (the base is not modified)', SIZE);
  for (let done = 0; done <= SIZE; done += SIZE / 16) ctx.progress(done);
  ctx.step('inspect', 'Inspecting the base image');
  // inject_atlas.sh's steps, none with bytes.
  ctx.step('check', 'Checking the root file system', 0);
  ctx.step('inject', 'Injecting the Atlas payload', 0);
  ctx.step('cmdline', 'Patching cmdline.txt on the boot partition', 0);
  // sha256File hashes the golden image: its size comes with its first progress.
  ctx.step('checksum', 'Computing the golden image checksum');
  for (let done = 0; done <= SIZE; done += SIZE / 8) ctx.progress(done, SIZE);
}

/** The job's one percent after every event the renderer receives, as the panel shows it. */
async function percents(
  plan: boolean,
): Promise<{ percent: number | null; step: number; steps: number | null }[]> {
  const reg = new JobRegistry({ progressIntervalMs: 0 });
  const seen: { percent: number | null; step: number; steps: number | null }[] = [];
  let id = '';
  reg.subscribe((e) => {
    if (e.type === 'step' || e.type === 'progress' || e.type === 'plan') {
      const p = overallProgress(reg.get(id)!);
      seen.push({ percent: p.percent, step: p.step, steps: p.steps });
    }
  });
  const job = reg.start({
    request,
    title: 'Insert',
    locks: [],
    run: async (ctx) => {
      await insertSequence(ctx, plan);
      return { card: '', title: '', ok: true, failed: 0, warnings: 0, checks: [] };
    },
  });
  id = job.id;
  await reg.settled(id);
  return seen;
}

function summary(fields: Partial<JobSummary>): JobSummary {
  return {
    id: 'j',
    kind: 'verify',
    title: 't',
    request,
    state: 'running',
    startedAt: new Date().toISOString(),
    endedAt: null,
    steps: [],
    progress: null,
    log: [],
    outcome: null,
    error: null,
    ...fields,
  };
}

const step = (id: string, index: number, totalBytes = 0) => ({ id, label: id, index, totalBytes });

describe('overallProgress', () => {
  it('Insert with its plan: never goes back, from 0 to 100, step n of 6', async () => {
    const seen = await percents(true);
    const values = seen.map((s) => s.percent ?? -1);
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]!);
    expect(values[0]).toBe(0);
    expect(values.at(-1)).toBe(100);
    // Copy done is half the job (the checksum reads as many bytes again), not 100 %.
    const copied = seen.findIndex((s) => s.step === 2);
    expect(values[copied]).toBe(50);
    expect(seen.every((s) => s.steps === 6)).toBe(true);
    expect([...new Set(seen.map((s) => s.step))]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('the same steps without a plan: the percent starts again when the checksum learns its size', async () => {
    // What the panel showed before phases announced their plans (Insert went 92 % -> 28 %).
    const values = (await percents(false)).map((s) => s.percent ?? -1);
    const drops = values.filter((v, i) => i > 0 && v < values[i - 1]!);
    expect(drops.length).toBeGreaterThan(0);
  });

  it('weighs planned steps by their bytes, and a step the plan does not name counts as part of the one before', () => {
    const plan = [
      { id: 'read', label: 'read', bytes: 300 },
      { id: 'fsck', label: 'fsck' },
      { id: 'write', label: 'write', bytes: 100 },
    ];
    const read = summary({
      plan,
      steps: [step('read', 0, 600)],
      progress: { stepId: 'read', doneBytes: 300, totalBytes: 600, bytesPerSecond: 10, etaSeconds: 30 },
    });
    // Half of the read (its real size differs from the plan's: the plan's weight holds).
    expect(overallProgress(read)).toMatchObject({ percent: 37, step: 1, steps: 3 });
    // Time left: the rest of the read's weight and the write's, at the current speed.
    expect(overallProgress(read).etaSeconds).toBe(25);
    const inner = summary({ plan, steps: [step('read', 0, 600), step('map', 1)] });
    expect(overallProgress(inner)).toMatchObject({ percent: 75, step: 1, label: 'map' });
    const fsck = summary({ plan, steps: [step('read', 0, 600), step('map', 1), step('fsck', 2)] });
    expect(overallProgress(fsck)).toMatchObject({ percent: 75, step: 2 });
    const write = summary({
      plan,
      steps: [step('read', 0, 600), step('fsck', 1), step('write', 2, 0)],
      progress: { stepId: 'write', doneBytes: 50, totalBytes: 100, bytesPerSecond: 10, etaSeconds: 5 },
    });
    expect(overallProgress(write)).toMatchObject({ percent: 87, step: 3, etaSeconds: 5 });
  });

  it('a plan without bytes counts its steps; skipped steps count as passed', () => {
    const plan = ['boot', 'connect', 'provision', 'probe'].map((id) => ({ id, label: id }));
    const job = summary({ plan, steps: [step('boot', 0), step('probe', 1)] });
    expect(overallProgress(job)).toMatchObject({ percent: 75, step: 4, steps: 4, etaSeconds: null });
  });

  it('places a step named twice in the plan at its own turn', () => {
    const plan = [
      { id: 'compress', label: 'a' },
      { id: 'compress', label: 'b', bytes: 10 },
      { id: 'checksum', label: 'c' },
    ];
    expect(placeSteps(plan, [step('compress', 0), step('compress', 1), step('checksum', 2)])).toEqual([
      0, 1, 2,
    ]);
    expect(placeSteps(plan, [step('other', 0), step('checksum', 1), step('compress', 2)])).toEqual([
      -1, 2, -1,
    ]);
  });
});
