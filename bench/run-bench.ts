/**
 * npm run bench: the seed's own commands against Atlas Imager on the MacBook path, on an 8 GiB
 * card whose free space holds old data (as a used card does) with about 1.5 GB of files.
 *
 * The card is a loop device throttled to a USB card reader's speed with the blkio cgroup
 * (90 MB/s read, 30 MB/s write by default); bytes are counted by the device itself
 * (/sys/block/loopN/stat). Both sides run the builder steps on this machine; on the Mac path
 * the host moves the card's bytes: the seed with dd, Atlas Imager with used-block reads and
 * mapped writes through its raw-disk helper.
 *
 * usage: npm run bench -- [--dir DIR] [--card-gib 8] [--files-mib 1500] [--read-mbps 90] [--write-mbps 30]
 *          [--only shrink,flash]
 * Writes docs/benchmarks.md (and bench-results.json in DIR). Needs root. With --only, just those
 * operations run (shrink: ours, ours --compress zst, the seed's; flash: the .img and the .img.zst)
 * and the report goes to stdout and bench-results.json, not docs/benchmarks.md.
 */
import { makeUsedCard, macPathBuilder } from './bench-card.js';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PACKAGE_ROOT, SCRIPTS_DIR } from '../src-main/core/paths.js';
import { startJob, type JobContext, type JobEvent } from '../src-main/core/jobs/job.js';

import { clone } from '../src-main/core/phases/clone.js';
import { restore } from '../src-main/core/phases/restore.js';
import { shrink } from '../src-main/core/phases/shrink.js';
import { flash } from '../src-main/core/phases/flash.js';
import { invalidationRanges } from '../src-main/core/write/write-plan.js';
import { openSource } from '../src-main/core/write/open-source.js';
import { CardDevice, measure, usedBytes, type Measured } from './card-device.js';
import { seedClone, seedFlash, seedRestore, seedShrink } from './seed-pipeline.js';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: '/var/tmp/atlas-bench' },
    'card-gib': { type: 'string', default: '8' },
    'files-mib': { type: 'string', default: '1500' },
    'read-mbps': { type: 'string', default: '90' },
    'write-mbps': { type: 'string', default: '30' },
    only: { type: 'string' },
  },
});
const only = values.only ? new Set(values.only.split(',')) : undefined;
const wanted = (op: string) => only === undefined || only.has(op);
const MiB = 1024 * 1024;
const dir = values.dir!;
const cardBytes = Number(values['card-gib']) * 1024 * MiB;
const filesMiB = Number(values['files-mib']);
const speeds = { readBps: Number(values['read-mbps']) * 1e6, writeBps: Number(values['write-mbps']) * 1e6 };

/** Seconds spent in each step of the last job run, in order (a step's label, its seconds). */
let lastSteps: Array<[string, number]> = [];

const run = <T>(fn: (ctx: JobContext) => Promise<T>) => {
  const job = startJob('bench', fn);
  const steps: Array<[string, number]> = [];
  let at = process.hrtime.bigint();
  let current: string | undefined;
  const close = () => {
    const now = process.hrtime.bigint();
    if (current !== undefined) steps.push([current, Number(now - at) / 1e9]);
    at = now;
  };
  job.on('event', (e: JobEvent) => {
    if (e.type !== 'step') return;
    close();
    current = e.step.label;
  });
  return job.promise.finally(() => {
    close();
    lastSteps = steps;
  });
};

/**
 * The sections other benches write (between <!-- NAME --> and <!-- /NAME -->: bench:vm's clone
 * through the block-device path, bench:smaller's smaller cards), kept as they are.
 */
function otherSections(doc: string): string[] {
  let text = '';
  try {
    text = readFileSync(doc, 'utf8');
  } catch {
    return [];
  }
  return [...text.matchAll(/<!-- ([a-z-]+) -->[\s\S]*?<!-- \/\1 -->/g)].map((m) => m[0]);
}
const log = (s: string) => process.stderr.write(`${s}\n`);

function buildCard(path: string): void {
  log(`building an ${values['card-gib']} GiB card with ${filesMiB} MiB of files (old data in free space)…`);
  makeUsedCard(path, join(dir, 'fixture.img'), Math.floor(cardBytes / MiB), filesMiB);
}

interface Row {
  op: string;
  tool: string;
  seconds: number;
  read: number;
  written: number;
  /** The card alone: its bytes read at the reader's speed plus its bytes written at the writer's. */
  cardAlone: number;
  /** The machine's highest 1-minute load average during the operation. */
  load: number;
  /** Ours: seconds per step of the job. */
  steps?: Array<[string, number]>;
  note?: string;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the benchmark needs root (loop devices, cgroup throttling)');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const cardFile = join(dir, 'card.img');
  buildCard(cardFile);
  const card = new CardDevice(cardFile, speeds);
  const rows: Row[] = [];
  const lib = join(dir, 'atlas-build');
  const env = { builder: macPathBuilder(), library: lib };
  try {
    const used = usedBytes(card.device);
    log(`card ${card.device}: ${cardBytes} bytes, ${used} used`);
    const add = (op: string, tool: string, m: Measured<unknown>, note?: string) => {
      const cardAlone = m.read / speeds.readBps + m.written / speeds.writeBps;
      const steps = tool === 'atlas-imager' ? lastSteps : undefined;
      rows.push({
        op,
        tool,
        seconds: m.seconds,
        read: m.read,
        written: m.written,
        cardAlone,
        load: m.load,
        ...(steps ? { steps } : {}),
        ...(note ? { note } : {}),
      });
      log(
        `${op.padEnd(8)} ${tool.padEnd(14)} ${m.seconds.toFixed(1).padStart(7)} s  read ${(m.read / 1e6).toFixed(0)} MB  written ${(m.written / 1e6).toFixed(0)} MB  card alone ${cardAlone.toFixed(1)} s  load ${m.load.toFixed(1)}`,
      );
      for (const [label, sec] of steps ?? []) log(`    ${sec.toFixed(1).padStart(6)} s  ${label}`);
    };

    // Clone
    const seedWork = join(dir, 'seed');
    mkdirSync(seedWork, { recursive: true });
    if (wanted('clone') || wanted('restore')) {
      add(
        'clone',
        'seed',
        await measure(card, () => seedClone(card.device, seedWork, join(seedWork, 'golden-clone-seed'))),
      );
      add(
        'clone',
        'atlas-imager',
        await measure(card, () => run((ctx) => clone(env, { card: card.device, name: 'bench' }, ctx))),
      );
    }

    // Shrink (ours first: it never changes the card; the seed's shrinks the card in place)
    const ours = await measure(card, () =>
      run((ctx) => shrink(env, { card: card.device, version: '1.0.0', tag: 'BENCH', outDir: lib }, ctx)),
    );
    const passes = (r: typeof ours.result) => r.passes.map((p) => `${p.before} → ${p.after}`).join(', ');
    add(
      'shrink',
      'atlas-imager',
      ours,
      `reads used blocks into the work dir; checklist, resize2fs -M passes (blocks ${passes(ours.result)}), .bmap on the copy`,
    );
    const shrunk = ours.result.image;
    const oursZst = await measure(card, () =>
      run((ctx) =>
        shrink(
          env,
          { card: card.device, version: '1.0.0', tag: 'BENCHZ', outDir: lib, compress: 'zst' },
          ctx,
        ),
      ),
    );
    add(
      'shrink --compress zst',
      'atlas-imager',
      oursZst,
      `as above, then zerofree and zstd -9: ${(oursZst.result.bytes / 1e6).toFixed(0)} MB .img.zst of the ${(oursZst.result.imageBytes / 1e6).toFixed(0)} MB image`,
    );
    add(
      'shrink',
      'seed',
      await measure(card, () => seedShrink(card.device, join(seedWork, 'seed-shrunk.img'))),
      'e2fsck, resize2fs -M and the partition on the card, then dd bs=512',
    );
    const seedImg = statSync(join(seedWork, 'seed-shrunk.img')).size;

    // Restore
    if (wanted('restore')) {
      add(
        'restore',
        'seed',
        await measure(card, () =>
          seedRestore(
            card.device,
            cardBytes,
            seedWork,
            join(lib, 'golden-clone-bench'),
            join(SCRIPTS_DIR, 'restore_golden.sh'),
          ),
        ),
      );
      add(
        'restore',
        'atlas-imager',
        await measure(card, () => run((ctx) => restore(env, { card: card.device, set: 'bench' }, ctx))),
      );
    }

    // Flash the shrunk image (with read-back verification for ours; dd has none)
    add(
      'flash',
      'seed',
      await measure(card, () => seedFlash(shrunk, card.device)),
      'dd bs=4M conv=fsync, no verification',
    );
    const f = await measure(card, () =>
      run((ctx) => flash(env, { image: shrunk, cards: [card.device], verify: false }, ctx)),
    );
    add('flash', 'atlas-imager', f, `by ${f.result.mode}, no verification (throughput comparison)`);
    const fv = await measure(card, () =>
      run((ctx) => flash(env, { image: shrunk, cards: [card.device], verify: true }, ctx)),
    );
    add('flash+verify', 'atlas-imager', fv, `by ${fv.result.mode}, read back and compared`);
    const fz = await measure(card, () =>
      run((ctx) => flash(env, { image: oursZst.result.image, cards: [card.device], verify: false }, ctx)),
    );
    add(
      'flash .img.zst',
      'atlas-imager',
      fz,
      `by ${fz.result.mode} while decompressing (${(fz.result.mappedBytes / 1e6).toFixed(0)} MB mapped), no verification`,
    );

    const shrunkBytes = statSync(shrunk).size;
    const mapped = f.result.mappedBytes;
    writeReport(rows, {
      used,
      shrunkBytes,
      seedImg,
      mapped,
      zstMapped: fz.result.mappedBytes,
      fsBlocks: ours.result.fsBlocks,
      fsMin: ours.result.fsMinBlocks,
      seedFsBlocks: ours.result.passes[0]?.after ?? ours.result.fsBlocks,
      // The device counts what reaches it in pages of its cache.
      zeroed: invalidationRanges(cardBytes, (await openSource(shrunk)).partitions).reduce(
        (n, r) => n + Math.ceil(r.end / 4096) * 4096 - Math.floor(r.start / 4096) * 4096,
        0,
      ),
    });
  } finally {
    card.release();
  }
}

interface Facts {
  used: number;
  shrunkBytes: number;
  seedImg: number;
  mapped: number;
  zstMapped: number;
  fsBlocks: number;
  fsMin: number;
  /** After one resize2fs -M pass, as the seed does. */
  seedFsBlocks: number;
  /** Bytes a flash zeroes before writing (first MiB, partition heads, backup GPT), in 4 KiB pages. */
  zeroed: number;
}

function writeReport(rows: Row[], facts: Facts): void {
  const mb = (n: number) => (n / 1e6).toFixed(0);
  const get = (op: string, tool: string) =>
    rows.find((r) => r.op === op && r.tool === tool) ?? {
      op,
      tool,
      seconds: NaN,
      read: NaN,
      written: NaN,
      cardAlone: NaN,
      load: NaN,
    };
  const ratio = (op: string) => get(op, 'atlas-imager').seconds / get(op, 'seed').seconds;
  const seedFlashTp = facts.shrunkBytes / get('flash', 'seed').seconds;
  const ourFlashTp = get('flash', 'atlas-imager').written / get('flash', 'atlas-imager').seconds;
  const limit = 1.1 * facts.used + 64 * MiB;
  const targets = [
    [
      'Clone: bytes read ≤ 1.1 × used + 64 MiB',
      `${mb(get('clone', 'atlas-imager').read)} MB ≤ ${mb(limit)} MB`,
      get('clone', 'atlas-imager').read <= limit,
    ],
    ['Clone: wall time ≤ 0.25 × seed', `${ratio('clone').toFixed(2)} ×`, ratio('clone') <= 0.25],
    ...(['clone', 'shrink', 'flash .img.zst'] as const).map((op) => {
      const r = get(op, 'atlas-imager');
      const x = r.seconds / r.cardAlone;
      return [
        `${op}: wall time ≤ 1.25 × the card alone`,
        `${x.toFixed(2)} × (${r.seconds.toFixed(1)} s vs ${r.cardAlone.toFixed(1)} s)`,
        x <= 1.25,
      ] as const;
    }),
    [
      'Restore: bytes written ≤ 1.1 × used + 64 MiB',
      `${mb(get('restore', 'atlas-imager').written)} MB ≤ ${mb(limit)} MB`,
      get('restore', 'atlas-imager').written <= limit,
    ],
    ['Restore: wall time ≤ 0.35 × seed', `${ratio('restore').toFixed(2)} ×`, ratio('restore') <= 0.35],
    ['Shrink: wall time ≤ 0.5 × seed', `${ratio('shrink').toFixed(2)} ×`, ratio('shrink') <= 0.5],
    [
      "Shrink: file system ≤ 1.05 × the final resize2fs -P estimate (then the seed's 5 %)",
      `${facts.fsBlocks} ≤ 1.05 × ${facts.fsMin} blocks (one pass, as the seed: ${facts.seedFsBlocks}); image ${mb(facts.shrunkBytes)} MB vs seed ${mb(facts.seedImg)} MB`,
      facts.fsBlocks <= 1.05 * facts.fsMin,
    ],
    [
      'Flash .img.zst: bytes written ≤ mapped bytes (+ the table areas zeroed first)',
      `${mb(get('flash .img.zst', 'atlas-imager').written)} MB ≤ ${mb(facts.zstMapped)} + ${(facts.zeroed / 1e6).toFixed(1)} MB`,
      get('flash .img.zst', 'atlas-imager').written <= facts.zstMapped + facts.zeroed,
    ],
    [
      'Flash: bytes written ≤ mapped bytes (+ the table areas zeroed first)',
      `${mb(get('flash', 'atlas-imager').written)} MB ≤ ${mb(facts.mapped)} + ${(facts.zeroed / 1e6).toFixed(1)} MB`,
      get('flash', 'atlas-imager').written <= facts.mapped + facts.zeroed,
    ],
    [
      'Flash: write throughput ≥ 0.9 × dd bs=4M',
      `${(ourFlashTp / 1e6).toFixed(1)} vs ${(seedFlashTp / 1e6).toFixed(1)} MB/s`,
      ourFlashTp >= 0.9 * seedFlashTp,
    ],
  ] as const;
  const doc = join(PACKAGE_ROOT, 'docs', 'benchmarks.md');
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${execFileSync('uname', ['-sr'], { encoding: 'utf8' }).trim()}`;
  const md = [
    '# Benchmarks',
    '',
    `Produced by \`npm run bench\` (${new Date().toISOString().slice(0, 10)}), as root, on ${machine}.`,
    '',
    `The card: ${values['card-gib']} GiB, free space full of old data, ${mb(facts.used)} MB in use (${filesMiB} MiB of files + the system), on a loop device throttled with the blkio cgroup to ${values['read-mbps']} MB/s read and ${values['write-mbps']} MB/s write (a USB card reader). Bytes are the loop device's own counters (\`/sys/block/loopN/stat\`). Both sides take the MacBook path: the host moves card bytes, the builder works on files (the seed: \`dd\` of the whole card; Atlas Imager: used-block reads and mapped writes).`,
    '',
    'The card alone is what the reader makes any tool wait for: the bytes read from the card at the read speed plus the bytes written at the write speed. Load is the highest 1-minute load average seen during the operation (the machine has ' +
      `${cpus().length} cores).`,
    '',
    '| operation | tool | wall time | read from card | written to card | the card alone | × the card alone | load | note |',
    '|---|---|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.op} | ${r.tool} | ${r.seconds.toFixed(1)} s | ${mb(r.read)} MB | ${mb(r.written)} MB | ${r.cardAlone.toFixed(1)} s | ${(r.seconds / r.cardAlone).toFixed(2)} | ${r.load.toFixed(1)} | ${r.note ?? ''} |`,
    ),
    '',
    '### Where the time goes (ours, per step)',
    '',
    ...rows
      .filter((r) => r.steps?.length)
      .flatMap((r) => [
        `- **${r.op}** (${r.seconds.toFixed(1)} s): ${r.steps!.map(([l, sec]) => `${l} ${sec.toFixed(1)} s`).join('; ')}`,
      ]),
    '',
    '## Targets',
    '',
    '| target | measured | met |',
    '|---|---|---|',
    ...targets.map(([t, m, ok]) => `| ${t} | ${m} | ${ok ? 'yes' : 'no'} |`),
    '',
    ...otherSections(doc).flatMap((section) => [section, '']),
  ].join('\n');
  if (!only) writeFileSync(doc, md);
  writeFileSync(join(dir, 'bench-results.json'), JSON.stringify({ rows, facts, targets }, null, 2));
  process.stdout.write(md);
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
