/**
 * Renders job events on stderr: one line per step, then a live progress line (percent, speed,
 * ETA) on a terminal, or, when stderr is a file or pipe, a step's first progress line, then one
 * every few seconds, and its last.
 */
import type { JobEvent } from '../core/jobs/job.js';
import { bytes, duration } from './format.js';

export function progressPrinter(stream: NodeJS.WriteStream, verbose: boolean): (e: JobEvent) => void {
  const tty = stream.isTTY === true;
  let lastPlain = 0;
  let live = false;
  const endLive = () => {
    if (live) stream.write('\n');
    live = false;
  };
  return (e) => {
    switch (e.type) {
      case 'step':
        endLive();
        lastPlain = 0;
        stream.write(`==> ${e.step.label}\n`);
        break;
      case 'progress': {
        const pct =
          e.totalBytes > 0 ? `${((100 * e.doneBytes) / e.totalBytes).toFixed(1)}%` : bytes(e.doneBytes);
        const line = `    ${pct}  ${bytes(e.doneBytes)} of ${e.totalBytes > 0 ? bytes(e.totalBytes) : '?'}  ${bytes(e.bytesPerSecond)}/s  ETA ${duration(e.etaSeconds)}`;
        if (tty) {
          stream.write(`\r${line.padEnd(78)}`);
          live = true;
        } else if (Date.now() - lastPlain > 5000 || (e.totalBytes > 0 && e.doneBytes >= e.totalBytes)) {
          lastPlain = Date.now();
          stream.write(`${line}\n`);
        }
        break;
      }
      case 'log':
        if (verbose) {
          endLive();
          stream.write(`    ${e.line}\n`);
        }
        break;
      case 'plan':
        break;
      case 'done':
      case 'failed':
        endLive();
        break;
    }
  };
}
