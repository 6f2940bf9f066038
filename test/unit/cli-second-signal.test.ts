// ods-sd and signals: the first SIGINT or SIGTERM cancels the job; a second one, of either kind,
// ends ods-sd at once (a job that cannot end must never keep it alive).
import { afterEach, describe, expect, it } from 'vitest';
import { cancelOnSignals } from '../../src-main/cli/signals.js';

let off: (() => void) | undefined;
afterEach(() => off?.());

function listen() {
  const calls: string[] = [];
  off = cancelOnSignals({
    cancel: () => calls.push('cancel'),
    exit: (status) => calls.push(`exit ${status}`),
    say: () => undefined,
  });
  return calls;
}

describe('signals while a command runs', () => {
  it('cancels on the first SIGINT and ends at once on a SIGTERM after it', () => {
    const calls = listen();
    process.emit('SIGINT');
    expect(calls).toEqual(['cancel']);
    process.emit('SIGTERM');
    expect(calls).toEqual(['cancel', 'exit 143']);
  });

  it('ends at once on a second SIGINT, with the status a shell gives it', () => {
    const calls = listen();
    process.emit('SIGTERM');
    process.emit('SIGINT');
    expect(calls).toEqual(['cancel', 'exit 130']);
  });

  it('stops listening when the command is done', () => {
    const before = process.listenerCount('SIGINT') + process.listenerCount('SIGTERM');
    listen();
    off!();
    off = undefined;
    expect(process.listenerCount('SIGINT') + process.listenerCount('SIGTERM')).toBe(before);
  });
});
