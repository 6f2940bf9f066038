/**
 * Phase 2 Shrink: card after Phase 1 -> ods-atlas-clone-vX-Y-Z-TAG.img, flashable and self-expanding.
 * Works on a copy (never on the only copy of the user's data): the card is read into
 * <name>.img.partial, the checklist must pass first (unless forced), shrink_image.sh does the
 * seed's e2fsck / resize2fs -M / partition + 5% / e2fsck, and the image ends at the partition end.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { AtlasError } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import { describeCard } from '../cards/card.js';
import { createBmap } from '../rawio/bmap.js';
import { refuseDamagedFat } from '../rawio/used-blocks/fat-check.js';
import { readUsedCardToFile, identifyRawCard } from '../card-io/raw-disk.js';
import { cloneImageName } from '../naming.js';
import { validateTag, validateVersion } from '../validate.js';
import { manifestPathFor, newManifest, writeManifest } from '../library/manifest.js';
import {
  discard,
  ensureFreeSpace,
  exists,
  publish,
  refuseExisting,
  sha256File,
  toolVersions,
} from './common.js';
import { verify } from './verify.js';
import type { Env } from './env.js';
import { lockCard, lockOutput, withJobLocks } from '../library/job-lock.js';
import { ensureOutputDir, makeOwnerOnly, OWNER_FILE } from '../library/owner-only.js';
import { type ShrinkResult } from '../../common/results.js';
export { type ShrinkResult } from '../../common/results.js';

export interface ShrinkParams {
  card: string;
  version: string;
  tag: string;
  outDir?: string;
  checklist?: string;
  /** Shrink even when the checklist fails. */
  force?: boolean;
}

/** One job per clone image and per card: a second one is refused, told which job holds them. */
export async function shrink(env: Env, params: ShrinkParams, ctx: JobContext): Promise<ShrinkResult> {
  const out = join(resolve(params.outDir ?? env.library), cloneImageName(params.version, params.tag));
  // A folder the builder cannot see is refused before the lock (which lives beside the output).
  env.builder.toBuilderPath(out);
  const job = `shrink ${basename(out)}`;
  const locks = [() => lockOutput(out, job), () => lockCard(params.card, job)];
  return withJobLocks(locks, () => shrinkLocked(env, params, ctx));
}

async function shrinkLocked(env: Env, params: ShrinkParams, ctx: JobContext): Promise<ShrinkResult> {
  validateVersion(params.version);
  validateTag(params.tag);
  const card = await identifyRawCard(params.card);
  const outDir = resolve(params.outDir ?? env.library);
  const final = join(outDir, cloneImageName(params.version, params.tag));
  const partial = `${final}.partial`;
  // The builder works on the output where it is: refuse a folder it cannot see before any work.
  env.builder.toBuilderPath(final);
  const bmapFinal = `${final}.bmap`;
  const bmapPartial = `${bmapFinal}.partial`;
  await refuseExisting(final);
  await refuseExisting(bmapFinal);

  await ensureOutputDir(outDir, env.library, ctx);
  await ensureFreeSpace(outDir, Math.min(card.bytes, 64 * 1024 * 1024), 'the clone image');
  await discard(partial);
  await discard(bmapPartial);
  const manifestPath = manifestPathFor(final, 'clone-image');
  try {
    // The card is read once, used blocks only (free space stays a hole); the checklist and the
    // shrink both work on that copy.
    const read = await readUsedCardToFile(card, partial, ctx);
    for (const f of read.fallbacks) ctx.log(`read in full: ${f}`);
    // A damaged boot FAT would be published as it is, even with --force: refuse it.
    await refuseDamagedFat(partial);

    const report = await verify(
      env,
      { card: partial, ...(params.checklist ? { checklist: params.checklist } : {}) },
      ctx,
    );
    if (!report.ok && !params.force) {
      const failed = report.checks.filter((c) => !c.ok && c.severity === 'error').map((c) => c.label);
      throw new AtlasError(
        'checklist-failed',
        `the Phase 1 checklist failed (${failed.join(', ')}): not shrinking`,
        'finish Phase 1 on the device first (ods-sd verify shows the evidence), or pass --force',
      );
    }
    report.card = card.path;

    const b = env.builder;
    const out = await b.runScript('shrink_image.sh', [b.toBuilderPath(partial)], ctx);
    const one = (k: string) => out.results.get(k)?.[0] ?? '';

    ctx.step('bmap', 'Writing the block map (.bmap) for fast flashing');
    const bmap = await createBmap(partial, ctx, 'card-map');
    await writeFile(bmapPartial, bmap.text, { mode: OWNER_FILE });

    await makeOwnerOnly(partial); // however the card was read (here, or by the raw-disk helper)
    ctx.step('checksum', 'Computing the clone image checksum');
    const sum = await sha256File(partial, ctx);
    const manifest = newManifest({
      kind: 'clone-image',
      phase: 2,
      name: basename(final),
      version: params.version,
      tag: params.tag,
      builder: b.describe(),
      source: { path: card.path, kind: 'card', bytes: card.bytes, description: describeCard(card) },
      files: [
        { name: basename(final), bytes: sum.bytes, sha256: sum.sha256 },
        {
          name: basename(bmapFinal),
          bytes: Buffer.byteLength(bmap.text),
          sha256: createHash('sha256').update(bmap.text).digest('hex'),
        },
      ],
      layout: {
        rootStart: Number(one('root-start')),
        rootSectors: Number(one('root-sectors')),
        fsBlocks: Number(one('fs-blocks')),
        blockSize: Number(one('block-size')),
        imageBytes: Number(one('image-bytes')),
      },
      sourceState: 'provisioned',
      tools: await toolVersions(env, ctx),
      notes: [
        `armbian-resize-filesystem.service: ${one('resize-service')}`,
        ...(out.results.get('fsck-fixed') ?? []).map((f) => `e2fsck changed the file system, ${f}`),
        `file system shrunk from ${one('fs-blocks-before')} to ${one('fs-blocks')} blocks${out.results.has('shrink-retried') ? ` (${one('shrink-retried')})` : ''}`,
        `checklist: ${report.ok ? 'passed' : `failed (${report.failed}), shrunk with --force`}`,
        `read from the card: ${read.mappedBytes} of ${read.bytes} bytes (used blocks only)`,
        ...read.fallbacks.map((f) => `read in full: ${f}`),
        `block map: ${bmap.bmap.mappedBlocksCount} of ${bmap.bmap.blocksCount} blocks mapped`,
      ],
    });
    await writeManifest(manifestPath, manifest);
    await publish(bmapPartial, bmapFinal);
    await publish(partial, final);
    return {
      image: final,
      manifest: manifestPath,
      bmap: bmapFinal,
      readBytes: read.mappedBytes,
      bytes: sum.bytes,
      sha256: sum.sha256,
      rootStart: Number(one('root-start')),
      rootSectors: Number(one('root-sectors')),
      fsBlocks: Number(one('fs-blocks')),
      blockSize: Number(one('block-size')),
      resizeService: one('resize-service'),
      checklist: report,
    };
  } catch (e) {
    await discard(partial);
    await discard(bmapPartial);
    // Published before the image (which this job found missing): without it they describe nothing.
    if (!(await exists(final))) {
      await discard(manifestPath);
      await discard(bmapFinal);
    }
    throw e;
  }
}
