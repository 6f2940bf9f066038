// The closing count of a test run, from vitest JSON reports: tests passed and failed, a file that
// failed to run (no test counted) as one failure, a missing report as one failure.
import { existsSync, readFileSync } from 'node:fs';

export function summarize(reports) {
  let passed = 0;
  let failed = 0;
  for (const f of reports) {
    if (!existsSync(f)) {
      failed += 1;
      continue;
    }
    const r = JSON.parse(readFileSync(f, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    if (r.success === false && r.numFailedTests === 0) failed += 1;
  }
  return { passed, failed };
}
