/**
 * The ods-sd commands: their options, how they map onto core phases, and their human output.
 * Every command returns a plain result object (printed as JSON with --json).
 */
import { stat } from 'node:fs/promises';
import { listLibrary } from '../core/library/library.js';
import { importSecrets, secretsStatus, type SecretsStatus } from '../core/secrets/secrets-file.js';
import { listCards, type DriveCandidate } from '../core/cards/drive-list.js';
import type { JobContext } from '../core/jobs/job.js';
import type { Env } from '../core/phases/env.js';
import { insert } from '../core/phases/insert.js';
import { clone } from '../core/phases/clone.js';
import { restore } from '../core/phases/restore.js';
import { verify, type VerifyReport } from '../core/phases/verify.js';
import { shrink } from '../core/phases/shrink.js';
import { flash } from '../core/phases/flash.js';
import { erase } from '../core/phases/erase.js';
import { inspect, type Inspection } from '../core/phases/inspect.js';
import { AtlasError } from '../core/errors.js';
import { bytes, table } from './format.js';
import { DIST_COMPRESSIONS, type DistCompression } from '../core/images/compression.js';
import { cliHint } from './next-steps.js';

export type Values = Record<string, string | boolean | undefined>;

export interface Command {
  usage: string;
  summary: string;
  positionals: string[];
  /** The last positional may repeat (flash IMAGE CARD CARD...). */
  variadic?: boolean;
  options: Record<string, { type: 'string' | 'boolean' }>;
  /** Overwrites a card: needs --yes or a terminal to confirm. */
  destructive?: (pos: string[]) => string;
  run(env: Env, pos: string[], v: Values, ctx: JobContext): Promise<unknown>;
  human(result: unknown): string;
  /** Non-zero exit with a result (verify with failed checks). */
  failure?: (result: unknown) => AtlasError | undefined;
}

const str = (v: Values, k: string): string | undefined =>
  typeof v[k] === 'string' ? (v[k] as string) : undefined;

function need(v: Values, k: string, cmd: string): string {
  const s = str(v, k);
  if (!s) throw new AtlasError('usage', `${cmd} needs --${k}`, `see ods-sd ${cmd} --help`);
  return s;
}

/** Options of every command that writes a card. */
const CARD_WRITE_OPTIONS = {
  'allow-large-disk': { type: 'boolean' },
  'no-eject': { type: 'boolean' },
} as const;

/** The card-writing options as phase parameters. */
function cardWriteParams(v: Values): { eject: boolean } {
  return { eject: v['no-eject'] !== true };
}

function verifyText(r: VerifyReport): string {
  const rows = r.checks.map((c) => [
    c.ok ? '✅' : c.severity === 'warn' ? '⚠️ ' : '❌',
    `${c.label}:`,
    c.ok ? c.expected : `NOT ${c.expected}`,
    `(${c.evidence.join('; ')})`,
  ]);
  const verdict = r.ok
    ? `All required checks passed${r.warnings ? ` (${r.warnings} warning${r.warnings > 1 ? 's' : ''})` : ''}.`
    : `${r.failed} check${r.failed > 1 ? 's' : ''} failed.`;
  return `${r.title}\n${table(rows)}\n${verdict}`;
}

function inspectText(i: Inspection): string {
  const rows = [['#', 'start', 'size', 'type', 'fs', 'label', 'used']];
  for (const p of i.partitions) {
    rows.push([
      String(p.number),
      String(p.start),
      bytes(p.bytes),
      p.type,
      p.fs ?? '?',
      p.label ?? '',
      p.usedBytes === null ? '?' : bytes(p.usedBytes),
    ]);
  }
  const lines = [
    `${i.path}: ${i.kind === 'device' ? 'card' : 'image'}, ${bytes(i.bytes)}${i.compression !== 'none' ? ` (${i.compression})` : ''}, ${i.table} partition table`,
    table(rows),
    `Atlas payload: ${i.payloadPresent ? 'present' : 'absent'}`,
    `Looks like: ${i.stateText}`,
    ...i.problems.map((p) => `Problem: ${p}`),
  ];
  if (i.artifact)
    lines.push(
      `Name says: ${i.artifact.kind}, Phase ${i.artifact.phase}${i.manifest ? ' (manifest present)' : ''}`,
    );
  return lines.join('\n');
}

/** --compress xz|zst: a distributable image. */
function compressOption(v: Values): { compress?: DistCompression } {
  const c = str(v, 'compress');
  if (c === undefined) return {};
  if (!(DIST_COMPRESSIONS as readonly string[]).includes(c)) {
    throw new AtlasError(
      'usage',
      `--compress must be xz or zst, not ${JSON.stringify(c)}`,
      'see ods-sd shrink --help',
    );
  }
  return { compress: c as DistCompression };
}

export const COMMANDS: Record<string, Command> = {
  insert: {
    usage: 'insert BASE --payload DIR --version X.Y.Z --tag TAG [--secrets FILE] [--out-dir DIR]',
    summary: 'Phase 0: base Armbian image + payload -> ods-atlas-golden-vX-Y-Z-TAG.img',
    positionals: ['BASE'],
    options: {
      payload: { type: 'string' },
      version: { type: 'string' },
      tag: { type: 'string' },
      secrets: { type: 'string' },
      'out-dir': { type: 'string' },
    },
    run: (env, [base], v, ctx) =>
      insert(
        env,
        {
          base: base!,
          payload: need(v, 'payload', 'insert'),
          version: need(v, 'version', 'insert'),
          tag: need(v, 'tag', 'insert'),
          ...(str(v, 'secrets') ? { secrets: str(v, 'secrets')! } : {}),
          ...(str(v, 'out-dir') ? { outDir: str(v, 'out-dir')! } : {}),
        },
        ctx,
      ),
    human: (r) => {
      const x = r as Awaited<ReturnType<typeof insert>>;
      return [
        `Golden image (Phase 0): ${x.image}`,
        `  sha256 ${x.sha256}`,
        ...x.injected.map((i) => `  injected ${i.path} (${i.what})`),
      ].join('\n');
    },
  },
  clone: {
    usage: 'clone CARD NAME',
    summary: 'Phase 1: card -> golden-clone-NAME/ (partclone, used blocks only)',
    positionals: ['CARD', 'NAME'],
    options: {},
    run: (env, [card, name], _v, ctx) => clone(env, { card: card!, name: name! }, ctx),
    human: (r) => {
      const x = r as Awaited<ReturnType<typeof clone>>;
      return [
        `Clone set (Phase 1): ${x.dir}`,
        ...x.files.map((f) => `  ${f.name.padEnd(24)} ${bytes(f.bytes).padStart(9)}  ${f.sha256}`),
      ].join('\n');
    },
  },
  restore: {
    usage: 'restore CARD NAME [--allow-large-disk] [--no-eject]',
    summary:
      'Phase 1: golden-clone-NAME/ -> card (a smaller one too, when the data fits), root grown to fill it, then the card is ejected',
    positionals: ['CARD', 'NAME'],
    options: CARD_WRITE_OPTIONS,
    destructive: ([card, name]) => `restore ${name} onto ${card}: everything on ${card} will be erased`,
    run: (env, [card, name], v, ctx) =>
      restore(
        env,
        { card: card!, set: name!, ...cardWriteParams(v), allowUnusual: v['allow-large-disk'] === true },
        ctx,
      ),
    human: (r) => {
      const x = r as Awaited<ReturnType<typeof restore>>;
      return [
        `Restored ${x.set} onto ${x.card}; root partition ${x.grown ? 'grown to' : 'kept at'} ${bytes(x.rootSectors * 512)}`,
        ...(x.shrunkToFit
          ? [
              `  the card is smaller than the clone's card: root shrunk to fit (the data needs a card of ${bytes(x.minBytes ?? 0)})${x.lowHeadroom ? '; less than 5% free over its minimum' : ''}`,
            ]
          : []),
        ...(x.eject ? [`  ${x.eject.message}`] : []),
      ].join('\n');
    },
  },
  verify: {
    usage: 'verify CARD [--checklist FILE]',
    summary: 'Phase 2: the pre-shrink checklist, offline, with evidence',
    positionals: ['CARD'],
    options: { checklist: { type: 'string' } },
    run: (env, [card], v, ctx) =>
      verify(env, { card: card!, ...(str(v, 'checklist') ? { checklist: str(v, 'checklist')! } : {}) }, ctx),
    human: (r) => verifyText(r as VerifyReport),
    failure: (r) => {
      const x = r as VerifyReport;
      return x.ok
        ? undefined
        : new AtlasError(
            'checklist-failed',
            `${x.failed} of ${x.checks.length} checks failed`,
            'finish Phase 1 on the device, then verify again',
          );
    },
  },
  shrink: {
    usage:
      'shrink CARD --version X.Y.Z --tag TAG [--compress xz|zst] [--out-dir DIR] [--checklist FILE] [--force]',
    summary:
      'Phase 2: card -> ods-atlas-clone-vX-Y-Z-TAG.img (shrunk, self-expanding); --compress: .img.xz|.img.zst with .bmap and .sha256',
    positionals: ['CARD'],
    options: {
      version: { type: 'string' },
      tag: { type: 'string' },
      'out-dir': { type: 'string' },
      checklist: { type: 'string' },
      force: { type: 'boolean' },
      compress: { type: 'string' },
    },
    run: (env, [card], v, ctx) =>
      shrink(
        env,
        {
          card: card!,
          version: need(v, 'version', 'shrink'),
          tag: need(v, 'tag', 'shrink'),
          force: v.force === true,
          ...compressOption(v),
          ...(str(v, 'out-dir') ? { outDir: str(v, 'out-dir')! } : {}),
          ...(str(v, 'checklist') ? { checklist: str(v, 'checklist')! } : {}),
        },
        ctx,
      ),
    human: (r) => {
      const x = r as Awaited<ReturnType<typeof shrink>>;
      return [
        verifyText(x.checklist),
        `Clone image (Phase 2): ${x.image}`,
        `  ${bytes(x.bytes)}, root partition ${x.rootSectors} sectors from ${x.rootStart}; resize service ${x.resizeService}`,
        ...x.passes.map(
          (p) => `  resize2fs -M pass ${p.pass}: ${p.before} -> ${p.after} blocks (gained ${p.gained})`,
        ),
        `  file system ${x.fsBlocks} blocks, resize2fs -P estimate ${x.fsMinBlocks}`,
        ...(x.compression !== 'none'
          ? [
              `  ${x.compression} of a ${bytes(x.imageBytes)} image (free space zeroed); block map ${x.bmap}`,
              `  checksum ${x.sha256File} (sha256sum -c)`,
            ]
          : []),
        `  sha256 ${x.sha256}`,
      ].join('\n');
    },
  },
  flash: {
    usage: 'flash IMAGE CARD [CARD...] [--no-verify] [--allow-large-disk] [--no-eject]',
    summary: 'write an image (.img/.img.xz/.img.gz/.img.zst) to one or more cards, verify them, eject them',
    positionals: ['IMAGE', 'CARD'],
    variadic: true,
    options: { 'no-verify': { type: 'boolean' }, ...CARD_WRITE_OPTIONS },
    destructive: ([, ...cards]) =>
      `flash onto ${cards.join(', ')}: everything on ${cards.length > 1 ? 'these cards' : cards[0]} will be erased`,
    run: (env, [image, ...cards], v, ctx) =>
      flash(
        env,
        {
          image: image!,
          cards,
          verify: v['no-verify'] !== true,
          ...cardWriteParams(v),
          allowUnusual: v['allow-large-disk'] === true,
        },
        ctx,
      ),
    human: (r) => {
      const x = r as Awaited<ReturnType<typeof flash>>;
      const how =
        x.mode === 'stream'
          ? 'whole image'
          : `${bytes(x.mappedBytes)} mapped of ${bytes(x.imageBytes)} (${x.mode})`;
      const lines = x.cards.map((c) => {
        if (c.ok)
          return `  ${c.card}: ${bytes(c.writtenBytes ?? 0)} written, ${c.verified ? 'verified (read back, matches)' : 'not verified'}${c.shrunkToFit ? `; smaller than the image: root shrunk to fit (the data needs ${bytes(c.minBytes ?? 0)})` : ''}${c.eject ? `; ${c.eject.message}` : ''}`;
        const hint = c.error && cliHint(c.error);
        return `  ${c.card}: FAILED: ${c.error?.message}${hint ? ` (${hint})` : ''}`;
      });
      return [`Flashed ${x.image}: ${how}`, ...lines].join('\n');
    },
    failure: (r) => {
      const x = r as Awaited<ReturnType<typeof flash>>;
      return x.failed === 0
        ? undefined
        : new AtlasError(
            'tool-failed',
            `${x.failed} of ${x.cards.length} cards failed`,
            'see each card above; the others are fine',
          );
    },
  },
  erase: {
    usage: 'erase CARD [--label NAME] [--no-verify] [--allow-large-disk] [--no-eject]',
    summary: 'erase a card back to one FAT32 partition (MBR, from 4 MiB, label BOOT) for normal use',
    positionals: ['CARD'],
    options: { label: { type: 'string' }, 'no-verify': { type: 'boolean' }, ...CARD_WRITE_OPTIONS },
    destructive: ([card]) => `erase ${card}: everything on ${card} will be lost`,
    run: (env, [card], v, ctx) =>
      erase(
        env,
        {
          card: card!,
          ...(str(v, 'label') ? { label: str(v, 'label')! } : {}),
          verify: v['no-verify'] !== true,
          ...cardWriteParams(v),
          allowUnusual: v['allow-large-disk'] === true,
        },
        ctx,
      ),
    human: (r) => {
      const x = r as Awaited<ReturnType<typeof erase>>;
      return [
        `Erased ${x.card}: one FAT32 partition "${x.label}", ${bytes(x.partitionSectors * 512)} from sector ${x.partitionStart}`,
        `  ${bytes(x.writtenBytes)} written, ${x.verified ? 'verified (read back, matches)' : 'not verified'}${x.eject ? `; ${x.eject.message}` : ''}`,
      ].join('\n');
    },
  },
  inspect: {
    usage: 'inspect IMAGE|CARD',
    summary: 'partition table, file systems, used space, payload and phase',
    positionals: ['IMAGE|CARD'],
    options: {},
    run: (env, [path], _v, ctx) => inspect(env, path!, ctx),
    human: (r) => inspectText(r as Inspection),
  },
  cards: {
    usage: 'cards [--image IMAGE] [--all]',
    summary: 'the disks on this machine: which can be used as a card, and why the others cannot',
    positionals: [],
    options: { image: { type: 'string' }, all: { type: 'boolean' } },
    run: async (env, _pos, v) => {
      const image = str(v, 'image');
      const requiredBytes = image ? (await stat(image)).size : undefined;
      return listCards({
        places: [{ what: 'the library', path: env.library }],
        ...(image ? { sourceImage: image } : {}),
        ...(requiredBytes ? { requiredBytes } : {}),
        allowVirtual: v.all === true,
      });
    },
    human: (r) => {
      const list = r as DriveCandidate[];
      if (list.length === 0) return 'No disks found.';
      const rows = [['device', 'size', 'description', 'usable']];
      for (const d of list)
        rows.push([
          d.device,
          bytes(d.size),
          d.description,
          !d.usable
            ? `no: ${d.reasons.join('; ')}`
            : d.confirm
              ? `only with --allow-large-disk: ${d.confirm}`
              : `yes${d.notes?.length ? ` (${d.notes.join('; ')})` : ''}`,
        ]);
      return table(rows);
    },
  },
  secrets: {
    usage: 'secrets import FILE | secrets status',
    summary: 'keep atlas_secrets.conf in the library (0600, never in git); only its setting names are shown',
    positionals: ['import|status'],
    variadic: true,
    options: {},
    run: async (env, [action, file]) => {
      if (action === 'import' && file) return importSecrets(file, env.library);
      if (action === 'status' && !file) return secretsStatus(env.library);
      throw new AtlasError(
        'usage',
        'secrets takes "import FILE" or "status"',
        'ods-sd secrets import ~/atlas_secrets.conf',
      );
    },
    human: (r) => {
      const x = r as SecretsStatus;
      if (!x.present) return `No secrets yet: ods-sd secrets import FILE (kept at ${x.path}, mode 0600)`;
      return [
        `Secrets: ${x.path} (mode ${x.mode})`,
        `  settings: ${x.keys.join(', ')}`,
        ...(x.tooOpen ? [`  warning: readable by other users: chmod 600 ${x.path}`] : []),
      ].join('\n');
    },
  },
  list: {
    usage: 'list',
    summary: 'golden images, clone sets and clone images in the library',
    positionals: [],
    options: {},
    run: (env) => listLibrary(env.library),
    human: (r) => {
      const x = r as Awaited<ReturnType<typeof listLibrary>>;
      if (x.entries.length === 0) return 'The library is empty.';
      const rows = [['phase', 'kind', 'name', 'version', 'tag', 'size', 'date']];
      for (const e of x.entries) {
        rows.push([
          String(e.phase),
          e.kind,
          e.name,
          e.version ?? '',
          e.tag ?? '',
          bytes(e.bytes),
          e.modifiedAt.slice(0, 16).replace('T', ' '),
        ]);
      }
      const extra = x.unfinished.length ? `\nUnfinished (not artifacts): ${x.unfinished.join(', ')}` : '';
      return table(rows) + extra;
    },
  },
};
