/** A job's steps, progress and events as every side sees them. Plain data only. */
import type { SerializedError } from './error-codes.js';

export interface StepInfo {
  id: string;
  label: string;
  index: number;
  totalBytes: number;
}

/**
 * A step the job announces before it gets there (so a list can show what is still to come, and
 * one progress can weigh the whole job from the start).
 */
export interface PlannedStep {
  id: string;
  label: string;
  /**
   * The bytes the step will move, where they are known before the job starts (or a bound of
   * them): the step's weight in the job's one progress. Absent: the step moves no bytes, or an
   * amount nothing says in advance.
   */
  bytes?: number;
}

export type JobEvent =
  | { type: 'plan'; jobId: string; steps: PlannedStep[] }
  | { type: 'step'; jobId: string; step: StepInfo }
  | {
      type: 'progress';
      jobId: string;
      stepId: string;
      doneBytes: number;
      totalBytes: number;
      bytesPerSecond: number;
      etaSeconds: number | undefined;
    }
  | { type: 'log'; jobId: string; line: string }
  | { type: 'done'; jobId: string; result: unknown }
  | { type: 'failed'; jobId: string; error: SerializedError };

export type JobState = 'running' | 'done' | 'failed' | 'cancelled';
