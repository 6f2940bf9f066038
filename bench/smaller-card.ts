/**
 * npm run bench:smaller: the operations that write a card smaller than the clone's (or the
 * image's) card, and erase, on the MacBook path (the host moves the card's bytes), on a loop
 * device throttled like a USB card reader (90 MB/s read, 30 MB/s write by default):
 *   - restore a clone set of a larger card onto the smaller card (root shrunk to fit, grown);
 *   - flash a plain image larger than the card (its root shrunk to fit);
 *   - erase the card back to one FAT32 partition.
 * Writes the "Smaller cards and erase" section of docs/benchmarks.md.
 * usage: npm run bench:smaller -- [--dir DIR] [--source-mib 2048] [--card-mib 1536] [--files-mib 400]
 */
import { makeCardImage, macPathBuilder } from './bench-card.js';

import { mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PACKAGE_ROOT } from '../src-main/core/paths.js';
import { startJob, type JobContext } from '../src-main/core/jobs/job.js';

import { clone } from '../src-main/core/phases/clone.js';
import { restore } from '../src-main/core/phases/restore.js';
import { flash } from '../src-main/core/phases/flash.js';
import { erase } from '../src-main/core/phases/erase.js';
import { CardDevice, measure } from './card-device.js';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: '/var/tmp/atlas-bench-smaller' },
    'source-mib': { type: 'string', default: '2048' },
    'card-mib': { type: 'string', default: '1536' },
    'files-mib': { type: 'string', default: '400' },
    'read-mbps': { type: 'string', default: '90' },
    'write-mbps': { type: 'string', default: '30' },
  },
});
const MiB = 1024 * 1024;
const dir = values.dir!;
const sourceMiB = Number(values['source-mib']);
const cardMiB = Number(values['card-mib']);
const speeds = { readBps: Number(values['read-mbps']) * 1e6, writeBps: Number(values['write-mbps']) * 1e6 };
const run = <T>(fn: (ctx: JobContext) => Promise<T>) => startJob('bench', fn).promise;
const log = (s: string) => process.stderr.write(`${s}\n`);

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the benchmark needs root (loop devices, cgroup throttling)');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const source = join(dir, 'source.img');
  log(`building a ${sourceMiB} MiB source card with ${values['files-mib']} MiB of files…`);
  makeCardImage(source, sourceMiB, Number(values['files-mib']));
  const lib = join(dir, 'atlas-build');
  const env = { builder: macPathBuilder(), library: lib };
  await run((ctx) => clone(env, { card: source, name: 'bench' }, ctx));
  const cardFile = join(dir, 'card.img');
  writeFileSync(cardFile, '');
  truncateSync(cardFile, cardMiB * MiB);
  const card = new CardDevice(cardFile, speeds);
  const load = loadavg()[0]!;
  const rows: string[] = [];
  const add = (op: string, m: { seconds: number; read: number; written: number }, note: string) => {
    rows.push(
      `| ${op} | ${m.seconds.toFixed(1)} s | ${(m.read / 1e6).toFixed(0)} MB | ${(m.written / 1e6).toFixed(0)} MB | ${note} |`,
    );
    log(rows.at(-1)!);
  };
  try {
    const r = await measure(card, () =>
      run((ctx) => restore(env, { card: card.device, set: 'bench', eject: false }, ctx)),
    );
    add(
      'restore onto a smaller card',
      r,
      `clone of a ${sourceMiB} MiB card; root restored into the work dir, shrunk, ${(r.result.writtenBytes! / 1e6).toFixed(0)} MB of used blocks written, grown to the end, read back`,
    );
    const f = await measure(card, () =>
      run((ctx) => flash(env, { image: source, cards: [card.device], verify: true, eject: false }, ctx)),
    );
    add(
      'flash+verify onto a smaller card',
      f,
      `${sourceMiB} MiB image; its root shrunk to fit, mapped write, read back`,
    );
    const e = await measure(card, () => run((ctx) => erase(env, { card: card.device, eject: false }, ctx)));
    add('erase', e, 'one FAT32 partition; table, boot sectors, FATs and root directory written, read back');
  } finally {
    card.release();
  }
  const section = [
    '<!-- smaller-cards -->',
    '## Smaller cards and erase',
    '',
    `Produced by \`npm run bench:smaller\` (${new Date().toISOString().slice(0, 10)}), as root, on ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, on the MacBook path. The card: ${cardMiB} MiB, a loop device throttled to ${values['read-mbps']} MB/s read and ${values['write-mbps']} MB/s write; the clone's card (and the image) ${sourceMiB} MiB with ${values['files-mib']} MiB of files. Load average when it started: ${load.toFixed(1)} on ${cpus().length} cores${load > cpus().length ? ' (the machine was shared with other work: wall times are longer than on an idle machine)' : ''}.`,
    '',
    '| operation | wall time | read from card | written to card | note |',
    '|---|---:|---:|---:|---|',
    ...rows,
    '<!-- /smaller-cards -->',
  ].join('\n');
  const doc = join(PACKAGE_ROOT, 'docs', 'benchmarks.md');
  const text = readFileSync(doc, 'utf8');
  const re = /<!-- smaller-cards -->[\s\S]*<!-- \/smaller-cards -->/;
  writeFileSync(doc, re.test(text) ? text.replace(re, section) : `${text.trimEnd()}\n\n${section}\n`);
  rmSync(dir, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
