/**
 * The jobs the app is running: start (returns a summary with the job's id at once), a stream of
 * events for the renderer, cancel, and a snapshot of every recent job (so a reloaded window
 * shows what is still running). A card or library item is used by one running job at a time:
 * two jobs writing the same card would destroy each other's work.
 */
import { AtlasError, type SerializedError } from '../core/errors.js';
import { startJob, type Job, type JobContext, type JobEvent } from '../core/jobs/job.js';
import type { JobEventDto, JobOutcome, JobRequest, JobSummary } from '../common/contract.js';
import { startedSummary } from './job-summary.js';

export interface JobSpec {
  request: JobRequest;
  title: string;
  /** Cards and library paths this job uses; no other running job may use them. */
  locks: string[];
  run(ctx: JobContext): Promise<JobOutcome['result']>;
}

const LOG_TAIL = 300;
const KEEP_FINISHED = 40;

export class JobRegistry {
  private readonly jobs = new Map<string, { summary: JobSummary; job: Job<unknown>; locks: string[] }>();
  private readonly listeners = new Set<(e: JobEventDto) => void>();

  constructor(private readonly options: { progressIntervalMs?: number } = {}) {}

  /** Listens to every job's events; returns a function that stops listening. */
  subscribe(listener: (e: JobEventDto) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(spec: JobSpec): JobSummary {
    for (const lock of spec.locks) {
      const holder = this.holderOf(lock);
      if (holder) {
        throw new AtlasError(
          'bad-input',
          `${lock} is in use by the running job "${holder.title}"`,
          'wait for that job to finish, or cancel it first',
        );
      }
    }
    const job = startJob(spec.title, (ctx) => spec.run(ctx), {
      ...(this.options.progressIntervalMs !== undefined
        ? { progressIntervalMs: this.options.progressIntervalMs }
        : {}),
    });
    const summary = startedSummary(job.id, spec.request, spec.title);
    this.jobs.set(job.id, { summary, job: job as Job<unknown>, locks: spec.locks });
    job.on('event', (e: JobEvent) => this.apply(summary, e));
    this.emit({ type: 'started', job: structuredClone(summary) });
    this.prune();
    return structuredClone(summary);
  }

  cancel(id: string): void {
    const entry = this.jobs.get(id);
    if (!entry) throw new AtlasError('not-found', `no job ${id}`, 'it may have finished already');
    entry.job.cancel();
  }

  list(): JobSummary[] {
    return [...this.jobs.values()].map((e) => structuredClone(e.summary));
  }

  get(id: string): JobSummary | undefined {
    const e = this.jobs.get(id);
    return e ? structuredClone(e.summary) : undefined;
  }

  /** Resolves when the job has ended, whatever the outcome (for the app's shutdown and tests). */
  async settled(id: string): Promise<JobSummary> {
    const e = this.jobs.get(id);
    if (!e) throw new AtlasError('not-found', `no job ${id}`);
    await e.job.promise.catch(() => undefined);
    return structuredClone(e.summary);
  }

  running(): JobSummary[] {
    return this.list().filter((j) => j.state === 'running');
  }

  /** Cancels every running job and waits for them (their cleanup deletes partial output). */
  async cancelAll(): Promise<void> {
    const running = [...this.jobs.values()].filter((e) => e.summary.state === 'running');
    for (const e of running) e.job.cancel();
    await Promise.all(running.map((e) => e.job.promise.catch(() => undefined)));
  }

  /** The running job that uses `lock` (a card or library path), if any. */
  holderOf(lock: string): JobSummary | undefined {
    for (const e of this.jobs.values()) {
      if (e.summary.state === 'running' && e.locks.includes(lock)) return e.summary;
    }
    return undefined;
  }

  private apply(s: JobSummary, e: JobEvent): void {
    const at = new Date().toISOString();
    switch (e.type) {
      case 'plan':
        s.plan = e.steps.map((p) => ({ ...p }));
        this.emit({ type: 'plan', jobId: s.id, steps: e.steps.map((p) => ({ ...p })) });
        break;
      case 'step':
        s.steps.push({ ...e.step });
        s.progress = null;
        this.emit({ type: 'step', jobId: s.id, step: { ...e.step } });
        break;
      case 'progress': {
        const progress = {
          stepId: e.stepId,
          doneBytes: e.doneBytes,
          totalBytes: e.totalBytes,
          bytesPerSecond: e.bytesPerSecond,
          etaSeconds: e.etaSeconds ?? null,
        };
        s.progress = progress;
        // The step's size as its progress learns it: a reloaded window weighs the step right.
        const step = s.steps.at(-1);
        if (step && step.id === e.stepId) step.totalBytes = e.totalBytes;
        this.emit({ type: 'progress', jobId: s.id, progress: { ...progress } });
        break;
      }
      case 'log':
        s.log.push(e.line);
        if (s.log.length > LOG_TAIL) s.log.splice(0, s.log.length - LOG_TAIL);
        this.emit({ type: 'log', jobId: s.id, line: e.line });
        break;
      case 'done': {
        const outcome = { kind: s.kind, result: e.result } as JobOutcome;
        s.state = 'done';
        s.endedAt = at;
        s.outcome = outcome;
        this.emit({ type: 'done', jobId: s.id, outcome: structuredClone(outcome), endedAt: at });
        break;
      }
      case 'failed': {
        const error: SerializedError = e.error;
        s.state = error.code === 'cancelled' ? 'cancelled' : 'failed';
        s.endedAt = at;
        s.error = { ...error };
        this.emit({ type: 'failed', jobId: s.id, state: s.state, error: { ...error }, endedAt: at });
        break;
      }
    }
  }

  private emit(e: JobEventDto): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A listener's failure (a closed window) must not stop the job or the other listeners.
      }
    }
  }

  /** Forgets the oldest finished jobs beyond KEEP_FINISHED. */
  private prune(): void {
    const finished = [...this.jobs.values()].filter((e) => e.summary.state !== 'running');
    for (const e of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) {
      this.jobs.delete(e.summary.id);
    }
  }
}
