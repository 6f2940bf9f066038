/**
 * npm run bench:insert: Phase 0 insert from a sparse base image (6 GiB, 400 MiB of files by
 * default, as an Armbian download decompressed), against its floor: a sparse copy of the base
 * (`cp --sparse=always`) plus one sha256 of it (`openssl dgst -sha256`), the two things insert
 * cannot avoid. Prints the times, their ratio and the machine's load; `--write` adds the row to
 * docs/benchmarks.md.
 * usage: npm run bench:insert -- [--dir DIR] [--base-mib 6144] [--files-mib 400] [--write]
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PACKAGE_ROOT } from '../src-main/core/paths.js';
import { startJob } from '../src-main/core/jobs/job.js';
import { insert } from '../src-main/core/phases/insert.js';
import { LocalBuilder } from '../src-main/core/builder/local-builder.js';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: '/var/tmp/atlas-bench-insert' },
    'base-mib': { type: 'string', default: '6144' },
    'files-mib': { type: 'string', default: '400' },
    write: { type: 'boolean', default: false },
  },
});
const dir = values.dir!;
const log = (s: string) => process.stderr.write(`${s}\n`);
const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;

async function main(): Promise<void> {
  if (process.getuid?.() !== 0)
    throw new Error('the benchmark needs root (the builder mounts the root file system)');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const base = join(dir, 'Armbian_bench_Rpi4b_minimal.img');
  log(`building a ${values['base-mib']} MiB sparse base with ${values['files-mib']} MiB of files…`);
  execFileSync(
    'bash',
    [
      `${PACKAGE_ROOT}/test/fixtures/make-card-image.sh`,
      'base',
      base,
      '--root-mib',
      String(Number(values['base-mib']) - 260),
      '--fill-mib',
      String(values['files-mib']),
      '--seed',
      'bench',
    ],
    { stdio: 'inherit' },
  );
  const payload = join(dir, 'payload');
  mkdirSync(payload);
  writeFileSync(join(payload, 'atlas_firstboot.sh'), '#!/bin/bash\necho provisioning\n');
  writeFileSync(
    join(payload, 'atlas-firstboot.service'),
    '[Service]\nExecStart=/usr/local/bin/atlas_firstboot.sh\n',
  );
  writeFileSync(join(payload, 'atlas_secrets.conf'), 'ROOT_PASSWORD="bench-pw"\n', { mode: 0o600 });
  const used = execFileSync('du', ['-B1', base], { encoding: 'utf8' }).split('\t')[0];
  execFileSync('sync');

  let t0 = process.hrtime.bigint();
  execFileSync('cp', ['--sparse=always', base, join(dir, 'copy.img')]);
  execFileSync('openssl', ['dgst', '-sha256', base]);
  const floor = seconds(t0);
  rmSync(join(dir, 'copy.img'));

  const lib = join(dir, 'atlas-build');
  const load = loadavg()[0]!;
  t0 = process.hrtime.bigint();
  await startJob('bench', (ctx) =>
    insert(
      { builder: new LocalBuilder(), library: lib },
      { base, payload, version: '1.0.0', tag: 'BENCH' },
      ctx,
    ),
  ).promise;
  const ours = seconds(t0);
  const ratio = ours / floor;
  const line = `| insert | ${values['base-mib']} MiB sparse base, ${Math.round(Number(used) / 1e6)} MB allocated | ${ours.toFixed(1)} s | ${floor.toFixed(1)} s | ${ratio.toFixed(2)} × | ${load.toFixed(1)} |`;
  console.log('| phase | base | insert | cp --sparse + sha256 of the base | ratio | load |');
  console.log('|---|---|---:|---:|---:|---:|');
  console.log(line);
  if (values.write) appendFileSync(join(PACKAGE_ROOT, 'docs', 'benchmarks.md'), `${line}\n`);
  rmSync(dir, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
