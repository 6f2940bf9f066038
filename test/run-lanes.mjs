#!/usr/bin/env node
// Runs the test suite's five vitest lanes (vitest.config.ts: disk, disk2, unit, tools, vm) side by
// side, as separate vitest processes: vitest itself runs every project that has file parallelism
// off in one queue. Each lane's lines are prefixed with its name; each writes
// its JSON report to test-output/vitest-LANE.json; the last line is "N passed, N failed".
//   node test/run-lanes.mjs [LANE...]      (default: all five)
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { summarize } from './helpers/summary.mjs';

const LANES = ['disk', 'disk2', 'unit', 'tools', 'vm'];
const lanes = process.argv.slice(2).length ? process.argv.slice(2) : LANES;
for (const l of lanes) if (!LANES.includes(l)) throw new Error(`no lane ${l} (lanes: ${LANES.join(', ')})`);

mkdirSync('test-output', { recursive: true });
const results = await Promise.all(
  lanes.map(
    (lane) =>
      new Promise((resolve) => {
        const report = `test-output/vitest-${lane}.json`;
        rmSync(report, { force: true });
        const started = Date.now();
        const child = spawn(
          process.execPath,
          ['node_modules/vitest/vitest.mjs', 'run', '--project', lane, `--outputFile.json=${report}`],
          { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } },
        );
        for (const stream of [child.stdout, child.stderr]) {
          createInterface({ input: stream }).on('line', (line) =>
            process.stdout.write(`[${lane}] ${line}\n`),
          );
        }
        child.on('close', (code, signal) => {
          const seconds = Math.round((Date.now() - started) / 1000);
          process.stdout.write(`[${lane}] lane finished in ${seconds} s (exit ${code ?? signal})\n`);
          resolve({ lane, code: code ?? 1, seconds });
        });
      }),
  ),
);
for (const r of results) console.log(`lane ${r.lane}: ${r.seconds} s, exit ${r.code}`);
const { passed, failed } = summarize(lanes.map((l) => `test-output/vitest-${l}.json`));
console.log(`${passed} passed, ${failed} failed`);
process.exit(results.some((r) => r.code !== 0) || failed > 0 || passed === 0 ? 1 : 0);
