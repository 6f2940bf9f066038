/**
 * Phase 0 Insert: base Armbian image (.img or .img.xz) + payload + secrets
 *   -> ods-atlas-golden-vX-Y-Z-TAG.img (+ .manifest.json). The base is only ever read.
 */
import { open, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { AtlasError } from '../errors.js';
import type { JobContext, PlannedStep } from '../jobs/job.js';
import { detectCompression, decompress, uncompressedSize } from '../images/compression.js';
import { BLOCK, copyStreamTo } from '../rawio/block-copy.js';
import { sparseCopyHashed } from '../rawio/sparse-copy.js';
import { goldenImageName, parseArtifactName } from '../naming.js';
import { validatePathArg, validateTag, validateVersion } from '../validate.js';
import { manifestPathFor, newManifest, writeManifest } from '../library/manifest.js';
import { ensureFreeSpace, refuseExisting, sha256File } from './output-file.js';
import { toolVersions } from './tool-versions.js';
import { discard, exists, publish } from '../library/files.js';
import { inspectRaw } from './inspect.js';
import { STATE_TEXT } from './card-state.js';
import type { Env } from './env.js';
import { lockOutput, withJobLocks } from '../library/job-lock.js';
import { ensureOutputDir, OWNER_FILE } from '../library/owner-only.js';
import { type InsertResult } from '../../common/results.js';
export { type InsertResult } from '../../common/results.js';

export interface InsertParams {
  base: string;
  payload: string;
  version: string;
  tag: string;
  secrets?: string;
  outDir?: string;
}

/** The payload folder: a folder with the two files, or an ods-player-os-atlas checkout (scripts/). */
export async function resolvePayload(dir: string): Promise<string> {
  for (const candidate of [dir, join(dir, 'scripts')]) {
    if (
      (await exists(join(candidate, 'atlas_firstboot.sh'))) &&
      (await exists(join(candidate, 'atlas-firstboot.service')))
    ) {
      return resolve(candidate);
    }
  }
  throw new AtlasError(
    'not-found',
    `no Atlas payload in ${dir}: atlas_firstboot.sh and atlas-firstboot.service are needed`,
    undefined,
    { next: [{ do: 'choose-payload' }] },
  );
}

/** Secrets: --secrets, else atlas_secrets.conf beside the payload, else <library>/scripts/. */
export async function resolveSecrets(
  given: string | undefined,
  payloadDir: string,
  library: string,
): Promise<string> {
  if (given) {
    if (!(await exists(given))) throw new AtlasError('not-found', `no secrets file at ${given}`);
    return resolve(given);
  }
  for (const candidate of [
    join(payloadDir, 'atlas_secrets.conf'),
    join(library, 'scripts', 'atlas_secrets.conf'),
  ]) {
    if (await exists(candidate)) return resolve(candidate);
  }
  throw new AtlasError('not-found', 'no atlas_secrets.conf found', undefined, {
    next: [{ do: 'give-secrets', path: join(library, 'scripts', 'atlas_secrets.conf') }],
  });
}

/** One job per golden image: a second one is refused, told which job holds it. */
export async function insert(env: Env, params: InsertParams, ctx: JobContext): Promise<InsertResult> {
  const out = join(resolve(params.outDir ?? env.library), goldenImageName(params.version, params.tag));
  // A folder the builder cannot see is refused before the lock (which lives beside the output).
  env.builder.toBuilderPath(out);
  return withJobLocks([() => lockOutput(out, `insert ${basename(out)}`)], () =>
    insertLocked(env, params, ctx),
  );
}

/** Copy and checksum move the image's bytes; inject_atlas.sh's steps move none. */
export function insertPlan(base: string, size: number): PlannedStep[] {
  return [
    { id: 'copy', label: `Copying ${basename(base)} (the base is not modified)`, bytes: size },
    { id: 'inspect', label: 'Inspecting the base image' },
    { id: 'check', label: 'Checking the root file system' },
    { id: 'inject', label: 'Injecting the Atlas payload' },
    { id: 'cmdline', label: 'Patching cmdline.txt on the boot partition' },
    { id: 'checksum', label: 'Computing the golden image checksum', bytes: size },
  ];
}

async function insertLocked(env: Env, params: InsertParams, ctx: JobContext): Promise<InsertResult> {
  validateVersion(params.version);
  validateTag(params.tag);
  validatePathArg('base image', params.base);
  const outDir = resolve(params.outDir ?? env.library);
  const final = join(outDir, goldenImageName(params.version, params.tag));
  const partial = `${final}.partial`;
  // The builder works on the output where it is: refuse a folder it cannot see before any work.
  env.builder.toBuilderPath(final);

  const baseStat = await stat(params.base).catch(() => undefined);
  if (!baseStat)
    throw new AtlasError(
      'not-found',
      `no base image at ${params.base}`,
      'check the path of the Armbian .img or .img.xz',
    );
  if (!baseStat.isFile()) throw new AtlasError('bad-input', `${params.base} is not a file`);
  const prior = parseArtifactName(basename(params.base).replace(/\.(xz|gz|zst)$/, ''));
  if (prior) {
    throw new AtlasError(
      'wrong-phase',
      `${basename(params.base)} is a ${prior.kind} (Phase ${prior.phase}), not a base Armbian image`,
      'Insert creates Phase 0 from the base Armbian image only; never cross phases',
    );
  }
  const payload = await resolvePayload(params.payload);
  const secrets = await resolveSecrets(params.secrets, payload, env.library);
  await refuseExisting(final);
  await ensureOutputDir(outDir, env.library, ctx);

  const compression = await detectCompression(params.base);
  const size =
    compression === 'none' ? baseStat.size : ((await uncompressedSize(params.base, compression)) ?? 0);
  if (size < 2 * BLOCK) {
    throw new AtlasError(
      'bad-input',
      `${params.base} is too small to be an SD-card image`,
      'check that it is the Armbian .img',
    );
  }
  await ensureFreeSpace(outDir, size, 'the golden image');
  await discard(partial);
  ctx.plan?.(insertPlan(params.base, size));

  try {
    ctx.step('copy', `Copying ${basename(params.base)} (the base is not modified)`, size);
    let baseSha256: string;
    if (compression === 'none') {
      // The file system copies the data and keeps the holes; the base is read once, to hash it.
      baseSha256 = (await sparseCopyHashed(params.base, partial, size, ctx)).sha256;
    } else {
      // Decompressed once, straight into the copy (zero blocks left as holes), hashed on the way.
      const source = decompress(params.base, compression, size > 0 ? { expectBytes: size } : {});
      try {
        const fh = await open(partial, 'wx', OWNER_FILE);
        try {
          const r = await copyStreamTo(source.stream, fh, { ctx, totalBytes: size, sparse: true });
          await fh.truncate(r.bytes);
          baseSha256 = r.sha256;
        } finally {
          await fh.close();
        }
        await source.done;
      } finally {
        // A failed copy stops the decoder (an in-process one would otherwise hold its stream open).
        source.kill();
        source.stream.destroy();
      }
    }

    ctx.step('inspect', 'Inspecting the base image');
    const info = await inspectRaw(env, partial, ctx);
    if (info.truncated) {
      throw new AtlasError(
        'bad-input',
        `${basename(params.base)} is truncated: its last partition ends past the end of the file`,
        'the download or copy is incomplete: get the image again',
      );
    }
    if (info.problems.length > 0) {
      throw new AtlasError(
        'bad-input',
        `${basename(params.base)}: ${info.problems.join('; ')}`,
        'the base image is damaged: get it again (check its sha256 against the download page)',
      );
    }
    if (!info.armbianLayout) {
      const found =
        info.partitions.map((p) => `${p.number}:${p.fs ?? 'unknown'}`).join(', ') || 'no partitions';
      throw new AtlasError(
        'unsupported',
        `${basename(params.base)} is not an Armbian Raspberry Pi image (found ${found})`,
        'use the base Armbian image: FAT32 boot partition first, ext4 root second',
      );
    }
    if (info.state !== 'base') {
      throw new AtlasError(
        'wrong-phase',
        `${basename(params.base)} is a ${STATE_TEXT[info.state]}, not a base Armbian image`,
        'Insert creates Phase 0 from the base Armbian image only: clone or shrink a provisioned card instead',
      );
    }

    const b = env.builder;
    // In the VM the secrets go to a root-only file (never the shared folder), as the seed's
    // "Secrets for Lima" asks; on this host the file is read where it is.
    const builderSecrets = await b.stageSecrets(secrets, ctx);
    const out = await b.runScript(
      'inject_atlas.sh',
      [b.toBuilderPath(partial), b.toBuilderPath(payload), builderSecrets],
      ctx,
    );
    const injected = (out.results.get('injected') ?? []).map((v) => {
      const [path, ...what] = v.split(' ');
      return { path: path ?? '', what: what.join(' ') };
    });

    ctx.step('checksum', 'Computing the golden image checksum');
    const sum = await sha256File(partial, ctx);
    const tools = await toolVersions(env, ctx);
    const manifest = newManifest({
      kind: 'golden-image',
      phase: 0,
      name: basename(final),
      version: params.version,
      tag: params.tag,
      builder: b.describe(),
      source: {
        path: resolve(params.base),
        kind: 'image',
        bytes: size,
        sha256: baseSha256,
        description: 'base Armbian image (sha256 of its uncompressed content)',
      },
      files: [{ name: basename(final), bytes: sum.bytes, sha256: sum.sha256 }],
      injected,
      layout: Object.fromEntries(
        info.partitions.flatMap((p) => [
          [`p${p.number}Start`, p.start],
          [`p${p.number}Sectors`, p.sectors],
        ]),
      ),
      tools,
      notes: [
        `payload from ${payload}`,
        'atlas_secrets.conf injected (its content is not recorded here)',
        ...(out.results.get('fsck-fixed') ?? []).map((f) => `e2fsck changed the file system, ${f}`),
      ],
    });
    const manifestPath = manifestPathFor(final, 'golden-image');
    await writeManifest(manifestPath, manifest);
    await publish(partial, final);
    return {
      image: final,
      manifest: manifestPath,
      sha256: sum.sha256,
      bytes: sum.bytes,
      baseSha256,
      injected,
    };
  } catch (e) {
    await discard(partial);
    await discard(manifestPathFor(final, 'golden-image'));
    throw e;
  }
}
