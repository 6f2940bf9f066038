/**
 * inspect: partition table, file systems, labels, sizes and used space of a card or image, whether
 * the Atlas payload is present, and which phase it looks like. Read-only.
 */
import { basename, join } from 'node:path';
import { open, rm } from 'node:fs/promises';
import { AtlasError } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import { identifyRawCard } from '../card-io/card-reads.js';
import { detectCompression, decompress, uncompressedSize } from '../images/compression.js';
import { copyStreamTo } from '../rawio/block-copy.js';
import { parseArtifactName } from '../naming.js';
import { manifestPathFor, readManifest } from '../library/manifest.js';
import { runProbes } from './root-probes.js';
import { scratchDir } from '../library/files.js';
import { stageCard } from './card-staging.js';
import { STATE_PROBES, STATE_TEXT, stateFromFacts, type CardState } from './card-state.js';
import type { Env } from './env.js';
import { type PartitionInfo, type Inspection } from '../../common/cards.js';
export { type PartitionInfo, type Inspection } from '../../common/cards.js';

/** Runs inspect_card.sh (+ state probes when there is an ext4 root) on a plain image or device. */
export async function inspectRaw(
  env: Env,
  path: string,
  ctx: JobContext,
  /** The card as the builder sees it, when it is not `path` (attached as a block device). */
  builderPath?: string,
): Promise<Omit<Inspection, 'compression'>> {
  const card = builderPath ? undefined : await identifyRawCard(path);
  const inBuilder = builderPath ?? env.builder.toBuilderPath(path);
  const out = await env.builder.runScript('inspect_card.sh', [inBuilder], ctx);
  let table = '';
  const partitions: PartitionInfo[] = [];
  const problems: { part: number; text: string }[] = [];
  for (const e of out.events) {
    if (e.kind !== 'record') continue;
    if (e.name === 'problem') problems.push({ part: Number(e.fields[0]), text: e.fields.slice(1).join(' ') });
    if (e.name === 'table') table = e.fields[0] ?? '';
    if (e.name === 'part') {
      const [nr, start, sectors, type, fs, used, label] = e.fields;
      partitions.push({
        number: Number(nr),
        start: Number(start),
        sectors: Number(sectors),
        bytes: Number(sectors) * 512,
        type: type ?? '',
        fs: fs && fs !== '-' ? fs : null,
        label: label && label !== '-' ? label : null,
        usedBytes: used && used !== '-1' ? Number(used) : null,
      });
    }
  }
  const root = partitions.find((p) => p.number === 2);
  const boot = partitions.find((p) => p.number === 1);
  let state: CardState = 'unknown';
  let payloadPresent = false;
  const rootDamaged = problems.some((p) => p.part === 2);
  if (root?.fs === 'ext4' && !rootDamaged) {
    const facts = await runProbes(env, { builderPath: inBuilder }, STATE_PROBES, ctx);
    state = stateFromFacts(facts);
    payloadPresent = facts.get('firstboot')?.exists === true;
  }
  return {
    path,
    kind: card?.kind ?? 'device',
    bytes: card?.bytes ?? 0,
    table,
    partitions,
    state,
    stateText: rootDamaged
      ? 'unknown: the root file system cannot be read (see problems)'
      : STATE_TEXT[state],
    payloadPresent,
    armbianLayout: boot?.fs === 'vfat' && root?.fs === 'ext4',
    truncated: partitions.some((p) => p.fs === 'truncated'),
    problems: problems.map((p) => p.text),
  };
}

export async function inspect(env: Env, path: string, ctx: JobContext): Promise<Inspection> {
  const card = await identifyRawCard(path);
  const compression = card.kind === 'file' ? await detectCompression(path) : 'none';
  let result: Omit<Inspection, 'compression'>;
  if (compression === 'none') {
    const staged = await stageCard(env, card, ctx);
    try {
      const raw = await inspectRaw(
        env,
        staged.hostPath ?? path,
        ctx,
        staged.hostPath ? undefined : staged.builderPath,
      );
      result = { ...raw, path, kind: card.kind, bytes: card.bytes };
    } finally {
      await staged.release();
    }
  } else {
    // A compressed image is unpacked (sparse) into the scratch space first.
    const dir = await scratchDir(env.library);
    try {
      const raw = join(dir, 'inspect.img');
      ctx.step(
        'decompress',
        `Decompressing ${basename(path)}`,
        (await uncompressedSize(path, compression)) ?? 0,
      );
      const d = decompress(path, compression);
      try {
        const fh = await open(raw, 'wx');
        try {
          const r = await copyStreamTo(d.stream, fh, { ctx, totalBytes: 0, sparse: true });
          await fh.truncate(r.bytes);
        } finally {
          await fh.close();
        }
        await d.done;
      } finally {
        d.kill();
        d.stream.destroy();
      }
      result = { ...(await inspectRaw(env, raw, ctx)), path, kind: 'file', bytes: card.bytes };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const inspection: Inspection = { ...result, compression };
  const artifact = parseArtifactName(basename(path));
  if (artifact) {
    inspection.artifact = artifact;
    const manifest = await readManifest(manifestPathFor(path, artifact.kind));
    if (manifest) inspection.manifest = manifest;
  }
  if (!inspection.table)
    throw new AtlasError('bad-input', `${path} has no partition table`, 'is it an SD-card image?');
  return inspection;
}
