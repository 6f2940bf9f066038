// Lima's logrus JSON lines (limactl --log-format json, ha.stderr.log): level, message, and the
// real cause of a failed start. Samples: test/fixtures/recorded/lima-* (see test/doubles/README.md).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lastFailure, lastHostAgentFailure, parseLimaLogLine } from '../../src-main/core/lima/lima-log.js';
import { ROOT } from '../helpers/fixtures.js';

const recorded = (name: string) => readFileSync(join(ROOT, 'test', 'fixtures', 'recorded', name), 'utf8');
const VZ_CAUSE =
  'failed to start the VM: Error Domain=VZErrorDomain Code=1 Description="Internal Virtualization error. The virtual machine failed to start."';

describe('Lima log lines', () => {
  it('reads level, message and time of a logrus JSON line', () => {
    expect(parseLimaLogLine('{"level":"info","msg":"READY.","time":"2026-08-22T09:14:03+02:00"}')).toEqual({
      level: 'info',
      msg: 'READY.',
      time: '2026-08-22T09:14:03+02:00',
    });
  });

  it('keeps the original level of a host agent line that limactl relayed', () => {
    const relayed = recorded('lima-start-failed.stderr').split('\n')[3]!;
    expect(parseLimaLogLine(relayed)).toMatchObject({ level: 'fatal', msg: `[hostagent] ${VZ_CAUSE}` });
  });

  it('ignores text output, blank lines and JSON that is not a log line', () => {
    expect(parseLimaLogLine('time="2026" level=info msg="x"')).toBeUndefined();
    expect(parseLimaLogLine('')).toBeUndefined();
    expect(parseLimaLogLine('{"name":"atlas-build"}')).toBeUndefined();
    expect(parseLimaLogLine('{not json')).toBeUndefined();
  });

  it('finds the fatal line of ha.stderr.log, not the error before it', () => {
    expect(lastFailure(recorded('lima-ha.stderr.log').split('\n'))).toBe(VZ_CAUSE);
  });

  it('falls back to the last error line, and to nothing when all went well', () => {
    const lines = [
      '{"level":"error","msg":"first","time":"t"}',
      '{"level":"info","msg":"fine","time":"t"}',
      '{"level":"error","msg":"second","time":"t"}',
    ];
    expect(lastFailure(lines)).toBe('second');
    expect(lastFailure(['{"level":"info","msg":"READY.","time":"t"}'])).toBeUndefined();
  });

  it("a failed start's own stderr ends with limactl's generic fatal line", () => {
    expect(lastFailure(recorded('lima-start-failed.stderr').split('\n'))).toMatch(
      /^exiting, status=\{Running:false/,
    );
  });

  it('reads the last failure from an instance folder, or undefined without a log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atlas-lima-log-'));
    expect(await lastHostAgentFailure(dir)).toBeUndefined();
    writeFileSync(join(dir, 'ha.stderr.log'), recorded('lima-ha.stderr.log'));
    expect(await lastHostAgentFailure(dir)).toBe(VZ_CAUSE);
  });
});
