/**
 * Phase 2 Shrink: card after Phase 1 -> ods-atlas-clone-vX-Y-Z-TAG.img, flashable and self-expanding.
 * Works on a copy (never on the only copy of the user's data): the card is read into
 * <name>.img.partial, the checklist must pass first (unless forced), shrink_image.sh does the
 * seed's e2fsck / resize2fs -M (passes until it shrinks no more) / partition + 5% / e2fsck, and
 * the image ends at the partition end.
 *
 * With `compress` the output is a distributable instead: the free blocks are zeroed (zerofree),
 * the image is compressed to <name>.img.xz|.zst, with <name>.img.bmap (the block map of the image
 * inside, which bmaptool finds beside the compressed file) and <name>.img.xz|.zst.sha256
 * (sha256sum's format). The uncompressed .img is then not kept: the compressed one is the
 * artifact, under the seed's name plus the compression suffix.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { checklistFailed } from './checklist-failed.js';
import { ROOT_HEADROOM_PERCENT } from '../../common/card-layout.js';
import type { JobContext, PlannedStep } from '../jobs/job.js';
import { describeCard, type CardIdentity } from '../cards/card.js';
import { createBmap } from '../rawio/bmap.js';
import { refuseDamagedFat } from '../rawio/used-blocks/fat-check.js';
import { readUsedCardToFile, identifyRawCard } from '../card-io/card-reads.js';
import { cloneImageName } from '../naming.js';
import { validateTag, validateVersion } from '../validate.js';
import { COMPRESSED_SUFFIX, compressFile, type DistCompression } from '../images/compression.js';
import { compressInBuilder } from './compress-in-builder.js';
import { manifestPathFor, newManifest, writeManifest } from '../library/manifest.js';
import { ensureFreeSpace, refuseExisting } from './output-file.js';
import { toolVersions } from './tool-versions.js';
import { discard, exists, publish } from '../library/files.js';
import { verifyCard } from './verify.js';
import { readUsedSteps } from './plan-steps.js';
import type { Env } from './env.js';
import { lockCard, lockOutput, withJobLocks } from '../library/job-lock.js';
import { ensureOutputDir, makeOwnerOnly, OWNER_FILE } from '../library/owner-only.js';
import { type ShrinkPass, type ShrinkResult } from '../../common/results.js';
export { type ShrinkPass, type ShrinkResult } from '../../common/results.js';

export interface ShrinkParams {
  card: string;
  version: string;
  tag: string;
  outDir?: string;
  checklist?: string;
  /** Shrink even when the checklist fails. */
  force?: boolean;
  /** Write a compressed distributable (free space zeroed) instead of the plain .img. */
  compress?: DistCompression;
}

/** The passes as shrink_image.sh reports them ("PASS BEFORE AFTER"). */
export function parsePasses(lines: readonly string[]): ShrinkPass[] {
  return lines.flatMap((l) => {
    const m = /^(\d+) (\d+) (\d+)$/.exec(l.trim());
    if (!m) return [];
    const [pass, before, after] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return [{ pass, before, after, gained: before - after }];
  });
}

export function passesText(passes: readonly ShrinkPass[]): string {
  return passes
    .map((p) => `pass ${p.pass}: ${p.before} -> ${p.after} blocks (gained ${p.gained})`)
    .join('; ');
}

const BMAP_LABEL = 'Writing the block map (.bmap) for fast flashing';
const BMAP_AND_SUM_LABEL = 'Writing the block map (.bmap) and the image checksum';

/**
 * The card read once (its used blocks), the checklist on that copy, shrink_image.sh's steps, the
 * block map (a plain image's checksum from the same read), or the block map then the compression
 * (in the VM: compress_image.sh's step too; both hash the image and its compressed stream as they
 * pass, so no checksum step follows).
 * The image is at most the card's size: the copy and the image's last pass weigh that much.
 */
export function shrinkPlan(env: Env, card: CardIdentity, compress?: DistCompression): PlannedStep[] {
  const last: PlannedStep[] = !compress
    ? []
    : env.builder.kind === 'local'
      ? [{ id: 'compress', label: `Compressing the clone image (${compress})`, bytes: card.bytes }]
      : [
          { id: 'compress', label: `Compressing the clone image (${compress})` },
          { id: 'compress', label: `Compressing the clone image (${compress})`, bytes: card.bytes },
        ];
  return [
    ...readUsedSteps(card),
    { id: 'probe', label: 'Reading the root file system (read-only)' },
    { id: 'check', label: 'Checking the root file system (e2fsck -f)' },
    { id: 'resize-service', label: 'Re-enabling the Armbian resize service' },
    { id: 'shrink-fs', label: 'Shrinking the file system (resize2fs -M)' },
    {
      id: 'shrink-partition',
      label: `Shrinking the root partition to the file system + ${ROOT_HEADROOM_PERCENT}%`,
    },
    { id: 'verify', label: 'Checking the shrunk file system' },
    ...(compress
      ? [{ id: 'zero-free', label: 'Zeroing the free blocks of the root file system (zerofree)' }]
      : []),
    { id: 'truncate', label: 'Cutting the image at the end of the root partition' },
    compress
      ? { id: 'bmap', label: BMAP_LABEL }
      : { id: 'bmap', label: BMAP_AND_SUM_LABEL, bytes: card.bytes },
    ...last,
  ];
}

/** One job per clone image and per card: a second one is refused, told which job holds them. */
export async function shrink(env: Env, params: ShrinkParams, ctx: JobContext): Promise<ShrinkResult> {
  const out = artifactPath(resolve(params.outDir ?? env.library), params);
  // A folder the builder cannot see is refused before the lock (which lives beside the output).
  env.builder.toBuilderPath(out);
  const job = `shrink ${basename(out)}`;
  const locks = [() => lockOutput(out, job), () => lockCard(params.card, job)];
  return withJobLocks(locks, () => shrinkLocked(env, params, ctx));
}

/** The published image: the seed's name, plus .xz / .zst for a distributable. */
function artifactPath(outDir: string, params: ShrinkParams): string {
  const img = join(outDir, cloneImageName(params.version, params.tag));
  return params.compress ? `${img}${COMPRESSED_SUFFIX[params.compress]}` : img;
}

async function shrinkLocked(env: Env, params: ShrinkParams, ctx: JobContext): Promise<ShrinkResult> {
  validateVersion(params.version);
  validateTag(params.tag);
  const card = await identifyRawCard(params.card);
  const outDir = resolve(params.outDir ?? env.library);
  const img = join(outDir, cloneImageName(params.version, params.tag));
  const final = artifactPath(outDir, params);
  const partial = `${img}.partial`;
  const compressedPartial = `${final}.partial`;
  // The builder works on the output where it is: refuse a folder it cannot see before any work.
  env.builder.toBuilderPath(img);
  // The block map describes the image; beside a compressed one it keeps the image's name
  // (X.img.bmap), where bmaptool looks for it.
  const bmapFinal = `${img}.bmap`;
  const bmapPartial = `${bmapFinal}.partial`;
  const sumFinal = params.compress ? `${final}.sha256` : undefined;
  const sumPartial = sumFinal ? `${sumFinal}.partial` : undefined;
  const finals = [final, bmapFinal, ...(sumFinal ? [sumFinal] : [])];
  // One image per name: a plain and a compressed one of the same version/tag would share the map.
  for (const f of new Set([img, ...finals])) await refuseExisting(f);
  const partials = [partial, compressedPartial, bmapPartial, ...(sumPartial ? [sumPartial] : [])];

  await ensureOutputDir(outDir, env.library, ctx);
  await ensureFreeSpace(outDir, Math.min(card.bytes, 64 * 1024 * 1024), 'the clone image');
  for (const p of partials) await discard(p);
  const manifestPath = manifestPathFor(final, 'clone-image');
  try {
    // The card is read once, used blocks only (free space stays a hole); the checklist and the
    // shrink both work on that copy.
    ctx.plan?.(shrinkPlan(env, card, params.compress));
    const read = await readUsedCardToFile(card, partial, ctx);
    for (const f of read.fallbacks) ctx.log(`read in full: ${f}`);
    // A damaged boot FAT would be published as it is, even with --force: refuse it.
    await refuseDamagedFat(partial);

    const report = await verifyCard(
      env,
      { card: partial, ...(params.checklist ? { checklist: params.checklist } : {}) },
      ctx,
    );
    if (!report.ok && !params.force) throw checklistFailed(report, 'not shrinking');
    report.card = card.path;

    const b = env.builder;
    const zero = params.compress !== undefined;
    const out = await b.runScript(
      'shrink_image.sh',
      [b.toBuilderPath(partial), ...(zero ? ['--zero-free'] : [])],
      ctx,
    );
    const one = (k: string) => out.results.get(k)?.[0] ?? '';
    const passes = parsePasses(out.results.get('shrink-pass') ?? []);
    ctx.log(`resize2fs -M: ${passesText(passes)}`);
    const fsMinBlocks = Number(one('fs-min-estimate'));

    // A plain image: its checksum from the same read as the block map's.
    ctx.step('bmap', zero ? BMAP_LABEL : BMAP_AND_SUM_LABEL);
    const bmap = await createBmap(partial, ctx, 'card-map', { imageSha256: !zero });
    await writeFile(bmapPartial, bmap.text, { mode: OWNER_FILE });

    await makeOwnerOnly(partial); // however the card was read (here, or by the raw-disk helper)
    let sum: { bytes: number; sha256: string };
    let image: { bytes: number; sha256: string };
    if (params.compress) {
      ctx.step('compress', `Compressing the clone image (${params.compress})`);
      // In the VM on a Mac (no xz or zstd there); here on Linux.
      const c =
        b.kind === 'local'
          ? await compressFile(partial, compressedPartial, params.compress, ctx)
          : await compressInBuilder(b, partial, compressedPartial, params.compress, ctx);
      await discard(partial);
      sum = { bytes: c.bytes, sha256: c.sha256 };
      image = { bytes: c.sourceBytes, sha256: c.sourceSha256 };
      await writeFile(sumPartial!, `${c.sha256}  ${basename(final)}\n`, { mode: OWNER_FILE });
    } else {
      sum = { bytes: bmap.bmap.imageSize, sha256: bmap.imageSha256! };
      image = sum;
    }
    const sumText = sumFinal ? `${sum.sha256}  ${basename(final)}\n` : '';
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
        ...(sumFinal
          ? [
              {
                name: basename(sumFinal),
                bytes: Buffer.byteLength(sumText),
                sha256: createHash('sha256').update(sumText).digest('hex'),
              },
            ]
          : []),
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
        `resize2fs -M ${passesText(passes)}; resize2fs -P estimates ${fsMinBlocks} blocks`,
        `checklist: ${report.ok ? 'passed' : `failed (${report.failed}), shrunk anyway (forced)`}`,
        `read from the card: ${read.mappedBytes} of ${read.bytes} bytes (used blocks only)`,
        ...read.fallbacks.map((f) => `read in full: ${f}`),
        `block map: ${bmap.bmap.mappedBlocksCount} of ${bmap.bmap.blocksCount} blocks mapped`,
        ...(params.compress
          ? [
              `free blocks zeroed (zerofree); compressed with ${params.compress}: image ${image.bytes} bytes, sha256 ${image.sha256}`,
            ]
          : []),
      ],
    });
    await writeManifest(manifestPath, manifest);
    await publish(bmapPartial, bmapFinal);
    if (sumPartial) await publish(sumPartial, sumFinal!);
    await publish(params.compress ? compressedPartial : partial, final);
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
      fsMinBlocks,
      blockSize: Number(one('block-size')),
      passes,
      resizeService: one('resize-service'),
      checklist: report,
      compression: params.compress ?? 'none',
      ...(sumFinal ? { sha256File: sumFinal } : {}),
      imageBytes: image.bytes,
      imageSha256: image.sha256,
      zeroed: zero,
    };
  } catch (e) {
    for (const p of partials) await discard(p);
    // Published before the image (which this job found missing): without it they describe nothing.
    if (!(await exists(final))) {
      await discard(manifestPath);
      for (const f of finals.slice(1)) await discard(f);
    }
    throw e;
  }
}
