/**
 * npm run bench:vm: clone through the block-device path against the seed, both in the real test
 * VM (test/vm: a Debian guest in QEMU, TCG on a host without KVM), on a card the guest cannot see.
 *
 * The card is a loop device throttled like a USB card reader (90 MB/s read by default), free space
 * full of old data; bytes are the loop device's own counters. Measured:
 *   - ours: ods-sd's clone phase with the Lima builder: the raw-disk helper serves the card over
 *     NBD through `limactl shell`, partclone | pigz read /dev/nbdN in the guest (the job log says
 *     which path was taken);
 *   - the reader: the card's used blocks read on the host through the same helper, timed;
 *   - compression: pigz -6 of the same partclone streams inside the guest, from its memory
 *     (no card, no share, no partclone: compression alone);
 *   - the seed: dd of the whole card into the work folder on the host, then its partclone | pigz
 *     on that file inside the same guest.
 * Writes the "Clone through the block-device path" section of docs/benchmarks.md and
 * bench-vm-results.json in DIR.
 * usage: npm run bench:vm -- [--dir DIR] [--card-mib 2048] [--files-mib 400] [--read-mbps 90] [--no-doc]
 *        npm run bench:vm -- --from-results DIR/bench-vm-results.json   (the section again, no run)
 */
import { makeUsedCard } from './bench-card.js';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PACKAGE_ROOT } from '../src-main/core/paths.js';
import { startJob, type JobContext, type JobEvent } from '../src-main/core/jobs/job.js';
import { clone } from '../src-main/core/phases/clone.js';
import { identifyRawCard, readUsedCardToFile } from '../src-main/core/card-io/card-reads.js';
import { canRunRealVm, startRealVm, type RealVm } from '../test/vm/real-vm.js';
import { CardDevice, measure, usedBytes } from './card-device.js';
import { SEED_CLONE_OF_RAW } from './seed-pipeline.js';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: '/var/tmp/atlas-bench-vm' },
    'card-mib': { type: 'string', default: '2048' },
    'files-mib': { type: 'string', default: '400' },
    'read-mbps': { type: 'string', default: '90' },
    'write-mbps': { type: 'string', default: '30' },
    'no-doc': { type: 'boolean', default: false },
    'from-results': { type: 'string' },
  },
});
const MiB = 1024 * 1024;
const dir = values.dir!;
const cardMiB = Number(values['card-mib']);
const filesMiB = Number(values['files-mib']);
const speeds = { readBps: Number(values['read-mbps']) * 1e6, writeBps: Number(values['write-mbps']) * 1e6 };
const log = (s: string) => process.stderr.write(`${s}\n`);

function buildCard(path: string): void {
  log(`building a ${cardMiB} MiB card with ${filesMiB} MiB of files (old data in free space)…`);
  makeUsedCard(path, join(dir, 'fixture.img'), cardMiB, filesMiB);
}

/** Runs a root shell script in the guest (arguments passed as such); fails on a non-zero exit. */
async function guestRoot(vm: RealVm, script: string, ...args: string[]): Promise<string> {
  const r = await vm.builder.guestCommand(
    ['sudo', 'bash', '-euo', 'pipefail', '-c', script, 'bench', ...args],
    {
      workdir: '/',
    },
  );
  if (r.exitCode !== 0) throw new Error(`guest script failed (${r.exitCode}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** The seed's clone, its builder part in the guest: sfdisk, then partclone | pigz of the dd'd file. */
const SEED_BUILDER = `raw=$1 set=$2
  mkdir -p "$set"
  ${SEED_CLONE_OF_RAW}`;

/** pigz -6 of the partclone streams of a clone set, from the guest's memory; prints milliseconds. */
const COMPRESS_ONLY = `set=$1 tmp=$(mktemp -d /dev/shm/bench.XXXXXX)
  trap 'rm -rf -- "$tmp"' EXIT
  pigz -dc "$set/sdc1-boot.partclone.gz" > "$tmp/boot"; pigz -dc "$set/sdc2-root.partclone.gz" > "$tmp/root"
  stat -c %s "$tmp/boot" "$tmp/root" >&2
  t0=$(date +%s%N)
  pigz -6 < "$tmp/boot" > /dev/null; pigz -6 < "$tmp/root" > /dev/null
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 ))`;

async function main(): Promise<void> {
  if (!canRunRealVm()) throw new Error('bench:vm needs root, qemu-system-x86_64 and debootstrap');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const cardFile = join(dir, 'card.img');
  buildCard(cardFile);
  const card = new CardDevice(cardFile, speeds);
  let vm: RealVm | undefined;
  try {
    const used = usedBytes(card.device);
    log(`card ${card.device}: ${cardMiB * MiB} bytes, ${used} used; starting the VM…`);
    vm = await startRealVm(dir);
    const accel = readFileSync(join(vm.limaHome, '_config', 'accel'), 'utf8').trim();
    const env = { builder: vm.builder, library: vm.shared };
    const load = loadavg()[0]!;
    log(`VM up in ${(vm.setupMs / 1000).toFixed(0)} s (${accel}); load average ${load.toFixed(1)}`);

    // 1. Ours: the clone phase, the card attached in the guest over NBD.
    const job = startJob('bench', (ctx: JobContext) =>
      clone(env, { card: card.device, name: 'vmbench' }, ctx),
    );
    const marks: Array<{ id: string; at: number }> = [];
    job.on('event', (e: JobEvent) => {
      if (e.type === 'step') marks.push({ id: e.step.id, at: Date.now() });
    });
    const ours = await measure(card, () => job.promise);
    const end = Date.now();
    // Wall time per step of the job (consecutive steps of the same id merged).
    const steps: Array<[string, number]> = [];
    marks.forEach((m, i) => {
      const secs = ((marks[i + 1]?.at ?? end) - m.at) / 1000;
      const last = steps.at(-1);
      if (last?.[0] === m.id) last[1] += secs;
      else steps.push([m.id, secs]);
    });
    log(`steps: ${JSON.stringify(steps)}`);
    const access = job.log.filter((l) => l.includes('card access: '));
    log(`ours: ${ours.seconds.toFixed(1)} s, read ${ours.read} bytes; ${access.join(' | ')}`);
    if (!access.some((l) => /attached in the VM as \/dev\/nbd\d+/.test(l)))
      throw new Error(`the clone did not take the block-device path: ${access.join(' | ')}`);

    // 2. The reader: the used blocks read through the raw-disk helper, to a sparse file.
    const raw = await identifyRawCard(card.device);
    const usedCopy = join(dir, 'used.img');
    const reader = await measure(
      card,
      () => startJob('bench', (ctx) => readUsedCardToFile(raw, usedCopy, ctx)).promise,
    );
    rmSync(usedCopy, { force: true });
    log(`reader: ${reader.seconds.toFixed(1)} s for ${reader.read} bytes`);

    // 3. Compression alone: pigz -6 of the same partclone streams, in the guest.
    const set = vm.builder.toBuilderPath(ours.result.dir);
    const compressSeconds = Number((await guestRoot(vm, COMPRESS_ONLY, set)).trim()) / 1000;
    log(`compression in the guest: ${compressSeconds.toFixed(1)} s`);

    // 4. The seed: dd of the whole card into the work folder, then partclone | pigz in the guest.
    const seedDir = join(vm.shared, 'seed');
    mkdirSync(seedDir);
    const seedRaw = join(seedDir, 'raw.img');
    let ddSeconds = 0;
    const seed = await measure(card, async () => {
      const t0 = process.hrtime.bigint();
      execFileSync('dd', [`if=${card.device}`, `of=${seedRaw}`, 'bs=4M', 'status=none']);
      ddSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
      await guestRoot(
        vm!,
        SEED_BUILDER,
        vm!.builder.toBuilderPath(seedRaw),
        vm!.builder.toBuilderPath(join(seedDir, 'golden-clone-seed')),
      );
      rmSync(seedRaw);
    });
    log(`seed: ${seed.seconds.toFixed(1)} s (dd ${ddSeconds.toFixed(1)} s), read ${seed.read} bytes`);

    const results = {
      date: new Date().toISOString(),
      cardBytes: cardMiB * MiB,
      filesMiB,
      used,
      readBps: speeds.readBps,
      accel,
      vmCpus: process.env.ATLAS_TESTVM_CPUS ?? '2 (template)',
      load,
      loadAfter: loadavg()[0]!,
      ours: { seconds: ours.seconds, read: ours.read, access, steps },
      reader: { seconds: reader.seconds, read: reader.read, computed: used / speeds.readBps },
      compressSeconds,
      seed: { seconds: seed.seconds, read: seed.read, ddSeconds },
    };
    writeFileSync(join(dir, 'bench-vm-results.json'), JSON.stringify(results, null, 2));
    const section = report(results);
    process.stdout.write(`${section}\n`);
    if (!values['no-doc']) writeSection(section);
  } finally {
    await vm?.release();
    card.release();
    // The card and the work folder go; bench-vm-results.json stays.
    for (const f of ['card.img', 'atlas-build', 'home', 'used.img'])
      rmSync(join(dir, f), { recursive: true, force: true });
  }
}

type Results = {
  date: string;
  cardBytes: number;
  filesMiB: number;
  used: number;
  readBps: number;
  accel: string;
  vmCpus: string;
  load: number;
  loadAfter: number;
  ours: { seconds: number; read: number; access: string[]; steps: Array<[string, number]> };
  reader: { seconds: number; read: number; computed: number };
  compressSeconds: number;
  seed: { seconds: number; read: number; ddSeconds: number };
};

function report(r: Results): string {
  const mb = (n: number) => (n / 1e6).toFixed(0);
  const s = (n: number) => `${n.toFixed(1)} s`;
  const limit = 1.1 * r.used + 64 * MiB;
  const readerSeconds = Math.max(r.reader.seconds, r.reader.computed);
  const bound = 1.2 * Math.max(readerSeconds, r.compressSeconds);
  const ratio = r.ours.seconds / r.seed.seconds;
  const yes = (ok: boolean, why = '') => (ok ? 'yes' : `no${why ? `: ${why}` : ''}`);
  const guestBound = r.compressSeconds > readerSeconds;
  const step = (id: string) => r.ours.steps.filter(([k]) => k === id).reduce((n, [, t]) => n + t, 0);
  return [
    '<!-- vm-clone -->',
    '## Clone through the block-device path',
    '',
    `Produced by \`npm run bench:vm\` (${r.date.slice(0, 10)}), as root, on ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM. On a Mac with an up-to-date VM, clone, verify, inspect and restore attach the card in the VM as \`/dev/nbdN\` (the raw-disk helper serves it over NBD through \`limactl shell\`) instead of staging a used-block copy. This host has no \`nbd\` module, so the bench runs it in the real test VM (\`test/vm\`: Debian 12, 2 vCPUs, 2 GiB, QEMU with **${r.accel.toUpperCase()}**${r.accel === 'tcg' ? ': KVM aborts on this host, every guest instruction is emulated' : ''}), on a card the guest cannot see. The card: ${r.cardBytes / MiB} MiB, free space full of old data, ${mb(r.used)} MB in use (${r.filesMiB} MiB of random files + the system), a loop device throttled to ${mb(r.readBps)} MB/s read. Load average ${r.load.toFixed(1)} when the measurements started, ${r.loadAfter.toFixed(1)} at the end, on ${cpus().length} cores.`,
    '',
    '| what | wall time | read from card | note |',
    '|---|---:|---:|---|',
    `| clone, atlas-imager (block-device path) | ${s(r.ours.seconds)} | ${mb(r.ours.read)} MB | the job log: "${r.ours.access[0] ?? ''}"; partclone \\| pigz -6 on /dev/nbdN in the guest, then partclone.chkimg of both images |`,
    `| the reader: used blocks only | ${s(r.reader.seconds)} | ${mb(r.reader.read)} MB | read on the host through the raw-disk helper (${s(r.reader.computed)} at ${mb(r.readBps)} MB/s for the used bytes) |`,
    `| compression of the used bytes, in the guest | ${s(r.compressSeconds)} | 0 MB | pigz -6 of the same partclone streams from the guest's memory (no card, no ssh, no partclone) |`,
    `| clone, seed (MacBook path) | ${s(r.seed.seconds)} | ${mb(r.seed.read)} MB | dd of the whole card into the work folder on the host (${s(r.seed.ddSeconds)}), then partclone \\| pigz on that file in the same guest (${s(r.seed.seconds - r.seed.ddSeconds)}) |`,
    '',
    `Where the clone's time goes (the job's steps, wall time): ${r.ours.steps.map(([id, t]) => `${id} ${s(t)}`).join(', ')}.`,
    '',
    '| target | measured | met |',
    '|---|---|---|',
    `| Clone: bytes read ≤ 1.1 × used + 64 MiB | ${mb(r.ours.read)} MB ≤ ${mb(limit)} MB | ${yes(r.ours.read <= limit)} |`,
    `| Clone: wall time ≤ 1.2 × max(reading the used bytes, compressing them) | ${s(r.ours.seconds)} vs 1.2 × max(${s(readerSeconds)}, ${s(r.compressSeconds)}) = ${s(bound)} (${(r.ours.seconds / Math.max(readerSeconds, r.compressSeconds)).toFixed(2)} ×) | ${yes(r.ours.seconds <= bound)} |`,
    `| Clone: wall time ≤ 0.35 × seed | ${s(r.ours.seconds)} vs ${s(r.seed.seconds)} (${ratio.toFixed(2)} ×) | ${yes(ratio <= 0.35)} |`,
    '',
    guestBound
      ? [
          `Reading the numbers: under ${r.accel.toUpperCase()} the guest's CPU, not the card, sets the pace. Compressing the used bytes alone takes ${s(r.compressSeconds)}, ${(r.compressSeconds / readerSeconds).toFixed(1)} × the reader's ${s(readerSeconds)}. The clone's own steps are guest CPU as well: clone-root (partclone | pigz on /dev/nbdN, with ssh decrypting the NBD stream, socat and the NBD client, all emulated) took ${s(step('clone-root'))}, ${(step('clone-root') / r.compressSeconds).toFixed(1)} × compression alone; check-images (partclone.chkimg decompressing both images again, a check the seed does not make) ${s(step('check-images'))}; identify (the helper's map check, the VM's nbd probe, the attach, the state probes, each over \`limactl shell\`) ${s(step('identify'))}. Without the check the clone would take ${s(r.ours.seconds - step('check-images'))}, ${((r.ours.seconds - step('check-images')) / r.seed.seconds).toFixed(2)} × the seed. The seed's guest part (partclone reading the whole dd'd card as a loop device on the 9p share, and pigz) took ${s(r.seed.seconds - r.seed.ddSeconds)}; it ran last, when the load had risen${r.loadAfter > r.load ? ` to ${r.loadAfter.toFixed(1)}` : ''}, which lengthens it.`,
          '',
          `What it means for a Mac with vz: the guest runs at native speed there, so the emulation's share of every guest step goes away; that factor is not measured here, and neither are the time targets on a Mac: this bench shows them not met under ${r.accel.toUpperCase()}, it cannot show them met under vz. What carries over is the card: the block-device path read ${mb(r.ours.read)} MB where the seed's dd read ${mb(r.seed.read)} MB (${s(r.reader.seconds)} of reading at the reader's speed against ${s(r.seed.ddSeconds)} for the seed's dd). Whether the reader or compression is then the bound depends on the Mac's cores: pigz -6 of random data ran at about 34 MB/s on this host's 2 cores (the host-side bench above: 1.5 GB in about 44 s), below the reader's ${mb(r.readBps)} MB/s; pigz scales with cores, so a Mac needs about ${Math.ceil((r.readBps / 34e6) * 2)} or more for the reader to become the bound.`,
        ].join('\n')
      : `Reading the numbers: the card reader is the bound here: compressing the used bytes takes ${s(r.compressSeconds)} against ${s(readerSeconds)} for reading them.`,
    '<!-- /vm-clone -->',
  ].join('\n');
}

/** Replaces the marked section of docs/benchmarks.md (or the old unmeasured one). */
function writeSection(section: string): void {
  const doc = join(PACKAGE_ROOT, 'docs', 'benchmarks.md');
  const text = readFileSync(doc, 'utf8');
  const marked = /<!-- vm-clone -->[\s\S]*<!-- \/vm-clone -->/;
  const old = /## Clone through the block-device path \(not benched here\)[\s\S]*?(?=\n<!-- |\n## )/;
  const next = marked.test(text)
    ? text.replace(marked, section)
    : old.test(text)
      ? text.replace(old, section)
      : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(doc, next);
}

/** --from-results FILE: writes the section again from a run's bench-vm-results.json. */
const start = values['from-results']
  ? async () => {
      const section = report(JSON.parse(readFileSync(values['from-results']!, 'utf8')) as Results);
      process.stdout.write(`${section}\n`);
      if (!values['no-doc']) writeSection(section);
    }
  : main;

start().catch((e: unknown) => {
  process.stderr.write(`bench:vm failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
