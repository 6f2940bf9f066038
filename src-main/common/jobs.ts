/** A job's steps, progress and events as every side sees them. Plain data only. */
import type { SerializedError } from './error-codes.js';

export interface StepInfo {
  id: string;
  label: string;
  index: number;
  totalBytes: number;
}

/** A step the job announces before it gets there (so a list can show what is still to come). */
export interface PlannedStep {
  id: string;
  label: string;
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
