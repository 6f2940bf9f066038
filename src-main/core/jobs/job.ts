/**
 * A job is one long operation: a sequence of steps, each with byte progress (speed and ETA), a
 * log, a result or a typed error, and cancellation. Phases receive a JobContext; whoever started
 * the job (CLI, Electron main, tests) listens to its events.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { AtlasError, CancelledError, toAtlasError } from '../errors.js';
import { RateMeter } from './rate-meter.js';
import { type PlannedStep, type StepInfo, type JobEvent, type JobState } from '../../common/jobs.js';
export { type PlannedStep, type StepInfo, type JobEvent, type JobState } from '../../common/jobs.js';

export interface JobContext {
  readonly signal: AbortSignal;
  step(id: string, label: string, totalBytes?: number): void;
  /**
   * Announces the steps to come, in order, with the bytes each will move where they are known:
   * once, before the first long step (a later announcement replaces it). Optional for the callers
   * of a phase (a test's context may leave it out).
   */
  plan?(steps: readonly PlannedStep[]): void;
  progress(doneBytes: number, totalBytes?: number): void;
  log(line: string): void;
  throwIfCancelled(): void;
}

export interface JobOptions {
  /** Minimum interval between progress events (ms). */
  progressIntervalMs?: number;
  now?: () => number;
}

export class Job<T> extends EventEmitter {
  readonly id = randomUUID();
  state: JobState = 'running';
  readonly log: string[] = [];
  readonly promise: Promise<T>;
  private readonly controller = new AbortController();
  private currentStep: StepInfo | undefined;
  private readonly meter = new RateMeter();
  private lastProgressAt = 0;

  constructor(
    readonly title: string,
    run: (ctx: JobContext) => Promise<T>,
    private readonly options: JobOptions = {},
  ) {
    super();
    const ctx = this.context();
    // Start on the next tick so listeners attached right after construction see every event. A
    // job cancelled before then never starts its work.
    this.promise = new Promise<void>((r) => setImmediate(r))
      .then(() => {
        ctx.throwIfCancelled();
        return run(ctx);
      })
      .then(
        (result) => {
          this.state = 'done';
          this.emitEvent({ type: 'done', jobId: this.id, result });
          return result;
        },
        (err: unknown) => {
          const error = this.controller.signal.aborted ? new CancelledError(title) : toAtlasError(err);
          this.state = error.code === 'cancelled' ? 'cancelled' : 'failed';
          this.emitEvent({ type: 'failed', jobId: this.id, error: error.toJSON() });
          throw error;
        },
      );
    // The promise is also observed through events; never leave it unhandled.
    this.promise.catch(() => undefined);
  }

  cancel(): void {
    if (this.state === 'running') this.controller.abort(new CancelledError(this.title));
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  private now(): number {
    return this.options.now ? this.options.now() : Date.now();
  }

  private emitEvent(e: JobEvent): void {
    this.emit('event', e);
  }

  private context(): JobContext {
    const signal = this.controller.signal;
    const interval = this.options.progressIntervalMs ?? 250;
    return {
      signal,
      plan: (steps) => {
        this.emitEvent({
          type: 'plan',
          jobId: this.id,
          steps: steps.map((s) => ({
            id: s.id,
            label: s.label,
            ...(s.bytes !== undefined && s.bytes > 0 ? { bytes: s.bytes } : {}),
          })),
        });
      },
      step: (id, label, totalBytes = 0) => {
        const index = this.currentStep ? this.currentStep.index + 1 : 0;
        this.currentStep = { id, label, index, totalBytes };
        this.meter.reset();
        this.lastProgressAt = 0;
        this.emitEvent({ type: 'step', jobId: this.id, step: this.currentStep });
      },
      progress: (doneBytes, totalBytes) => {
        const step = this.currentStep;
        if (!step) return;
        if (totalBytes !== undefined) step.totalBytes = totalBytes;
        const t = this.now();
        const rate = this.meter.sample(t, doneBytes);
        const finished = step.totalBytes > 0 && doneBytes >= step.totalBytes;
        if (!finished && t - this.lastProgressAt < interval) return;
        this.lastProgressAt = t;
        this.emitEvent({
          type: 'progress',
          jobId: this.id,
          stepId: step.id,
          doneBytes,
          totalBytes: step.totalBytes,
          bytesPerSecond: rate,
          etaSeconds: this.meter.eta(doneBytes, step.totalBytes),
        });
      },
      log: (line) => {
        this.log.push(line);
        if (this.log.length > 5000) this.log.splice(0, this.log.length - 5000);
        this.emitEvent({ type: 'log', jobId: this.id, line });
      },
      throwIfCancelled: () => {
        if (signal.aborted) throw new CancelledError(this.title);
      },
    };
  }
}

/** Runs a job to completion and returns its result (for CLI and tests). */
export function startJob<T>(
  title: string,
  run: (ctx: JobContext) => Promise<T>,
  options?: JobOptions,
): Job<T> {
  return new Job(title, run, options);
}

export function isAtlasError(e: unknown): e is AtlasError {
  return e instanceof AtlasError;
}
