// Prints the plain closing line "N passed, N failed" from vitest's JSON report.
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(new URL('../../test-output/vitest.json', import.meta.url), 'utf8'));
console.log(`${report.numPassedTests} passed, ${report.numFailedTests} failed`);
process.exit(report.numFailedTests > 0 || report.numPassedTests === 0 ? 1 : 0);
