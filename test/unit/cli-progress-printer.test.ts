// The CLI's progress on stderr when it is a file or a pipe (a log, a CI job, a script reading it):
// each step's first progress line shows however soon after the last one it comes, then a line
// every few seconds, and the step's last.
import { describe, expect, it } from 'vitest';
import { progressPrinter } from '../../src-main/cli/progress-printer.js';
import type { JobEvent } from '../../src-main/core/jobs/job.js';

function plainStream() {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
  return { stream, text: () => lines.join('') };
}

const step = (id: string, label: string, index: number): JobEvent => ({
  type: 'step',
  jobId: 'j',
  step: { id, label, index, totalBytes: 100 },
});
const progress = (stepId: string, doneBytes: number): JobEvent => ({
  type: 'progress',
  jobId: 'j',
  stepId,
  doneBytes,
  totalBytes: 100,
  bytesPerSecond: 10,
  etaSeconds: 1,
});

describe('the CLI progress printer, stderr not a terminal', () => {
  it("prints a step's first progress line even right after the previous step's", () => {
    const { stream, text } = plainStream();
    const print = progressPrinter(stream, false);
    print(step('read', 'Reading a.img', 0));
    print(progress('read', 40));
    print(progress('read', 60)); // within the few seconds: not printed
    print(step('write', 'Writing a.img to the card', 1));
    print(progress('write', 2));
    print(progress('write', 50)); // not printed
    print(progress('write', 100)); // the last: printed
    const out = text();
    expect(out).toContain('==> Reading a.img\n    40.0%');
    expect(out).not.toContain('60.0%');
    expect(out).toContain('==> Writing a.img to the card\n    2.0%');
    expect(out).not.toContain('50.0%');
    expect(out).toContain('100.0%');
  });
});
