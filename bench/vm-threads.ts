/**
 * npm run bench:threads: how the VM's compressors scale with its CPUs, to size the template's
 * `cpus`. The VM compresses what the Mac streams to it (a clone's partclone images, at the card
 * reader's pace) and a shrink's distributable (an image file, as fast as its CPUs go). Each
 * compressor runs on the same data with 1 thread, then 2, … up to this machine's cores; the input
 * throughput (MB/s) and the CPU seconds are printed as a markdown table.
 *
 * The data: a card's used blocks are its files, so the sample is real system files, this machine's
 * own Debian programs, libraries and data (/usr/bin, /usr/lib/x86_64-linux-gnu, /usr/share, as tar
 * puts them one after the other), cut at --sample-mib. Random or generated files would say nothing
 * of compression speed: zstd and igzip pass incompressible data through at memory speed.
 * usage: npm run bench:threads -- [--dir DIR] [--sample-mib 512]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: '/var/tmp/atlas-bench-threads' },
    'sample-mib': { type: 'string', default: '512' },
  },
});
const dir = values.dir!;
const log = (s: string) => process.stderr.write(`${s}\n`);
const MB = 1e6;
const TREES = ['/usr/bin', '/usr/lib/x86_64-linux-gnu', '/usr/share'];

/** `cmd args` reading the file `input` on stdin, output discarded: wall and CPU seconds (GNU time). */
function timed(input: string, cmd: string, args: string[]): { wall: number; cpu: number } {
  const fd = openSync(input, 'r');
  try {
    const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', cmd, ...args], {
      stdio: [fd, 'ignore', 'pipe'],
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
    const [wall, user, sys] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
    return { wall: wall!, cpu: user! + sys! };
  } finally {
    closeSync(fd);
  }
}

function main(): void {
  mkdirSync(dir, { recursive: true });
  const sample = join(dir, 'system-files.tar');
  const mib = Number(values['sample-mib']);
  log(`sampling ${mib} MiB of ${TREES.join(', ')}…`);
  execFileSync('bash', [
    '-c',
    'tar -c --ignore-failed-read "${@:2}" 2>/dev/null | head -c "$1" > "$0"; true',
    sample,
    String(mib * 1024 * 1024),
    ...TREES.filter((t) => spawnSync('test', ['-d', t]).status === 0),
  ]);
  const bytes = statSync(sample).size;
  const cores = cpus().length;
  const jobs: Array<{ what: string; cmd: string; args: (n: number) => string[] }> = [
    { what: 'clone: igzip -2 (the clone default)', cmd: 'igzip', args: (n) => ['-2', '-T', String(n), '-c'] },
    { what: 'clone: pigz -6 (the seed)', cmd: 'pigz', args: (n) => ['-6', '-p', String(n), '-c'] },
    { what: 'shrink --compress zst: zstd -9', cmd: 'zstd', args: (n) => ['-9', `-T${n}`, '-q', '-c'] },
    { what: 'shrink --compress xz: xz -6', cmd: 'xz', args: (n) => ['-6', `-T${n}`, '-c'] },
  ];
  const rows: string[] = [];
  for (const j of jobs) {
    let one = 0;
    for (let n = 1; n <= cores; n++) {
      const t = timed(sample, j.cmd, j.args(n));
      if (n === 1) one = t.wall;
      log(`${j.what}, ${n} thread(s): ${t.wall.toFixed(1)} s, ${t.cpu.toFixed(1)} CPU s`);
      rows.push(
        `| ${j.what} | ${n} | ${t.wall.toFixed(1)} s | ${(bytes / MB / t.wall).toFixed(0)} MB/s | ${t.cpu.toFixed(1)} s | ${(one / t.wall).toFixed(2)} × |`,
      );
    }
  }
  const ratio = (cmd: string[]) =>
    Number(execFileSync('bash', ['-c', '"${@:1}" < "$0" | wc -c', sample, ...cmd], { encoding: 'utf8' })) /
    bytes;
  const out = [
    `Produced by \`npm run bench:threads\` on ${cores} × ${cpus()[0]?.model.trim()}, load ${loadavg()[0]!.toFixed(1)} at the end:`,
    `${(bytes / MB).toFixed(0)} MB of this machine's Debian system files (igzip -2 keeps ${(100 * ratio(['igzip', '-2', '-c'])).toFixed(0)} % of it, zstd -9 ${(100 * ratio(['zstd', '-9', '-T0', '-q', '-c'])).toFixed(0)} %).`,
    '',
    '| what the VM compresses | threads | wall | input MB/s | CPU | speed-up |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
  process.stdout.write(`${out}\n`);
  rmSync(dir, { recursive: true, force: true });
}

main();
