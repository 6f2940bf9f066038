/**
 * Phase 1 Clone: a card (device or image file) -> golden-clone-NAME/ with the seed's files
 * (partition-table.dump, sdc1-boot.partclone.gz, sdc2-root.partclone.gz, restore_golden.sh) and a
 * manifest. Written as golden-clone-NAME.partial/ and renamed only when complete and checked.
 */
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { AtlasError } from '../errors.js';
import { PARTCLONE_VERSION } from '../../common/raw-disk-protocol.js';
import type { JobContext, PlannedStep } from '../jobs/job.js';
import { identifyRawCard } from '../card-io/card-reads.js';
import { describeCard, type CardIdentity } from '../cards/card.js';
import { cloneSetDirName, parseArtifactName } from '../naming.js';
import { validateName, validateNotReserved } from '../validate.js';
import { manifestPathFor, newManifest, writeManifest, type ManifestFile } from '../library/manifest.js';
import { refuseExisting, sha256File } from './output-file.js';
import { runProbes } from './root-probes.js';
import { toolVersions } from './tool-versions.js';
import { discard, publish } from '../library/files.js';
import { STATE_PROBES, stateFromFacts } from './card-state.js';
import { builderReachesCard, stageCard } from './card-staging.js';
import type { PartcloneRequest } from '../card-io/card-reads.js';
import { hashWhileWritten, type GrowingHash } from '../rawio/growing-file-hash.js';
import { isReaderGone } from '../rawio/used-blocks/read-used.js';
import { stageSteps } from './plan-steps.js';
import { damagedMapsError, refuseDamagedMaps, refuseUnclonedPartitions } from './clone-layout.js';
import type { Env } from './env.js';
import { lockCard, lockOutput, withJobLocks } from '../library/job-lock.js';
import { ensureLibraryDir, makeOwnerOnly, OWNER_DIR } from '../library/owner-only.js';
import { type CloneResult } from '../../common/results.js';
export { type CloneResult } from '../../common/results.js';

export interface CloneParams {
  card: string;
  name: string;
  /**
   * gzip level of the partclone images, 1-9 (default 2): 1-3 by ISA-L's igzip where the builder
   * has it, which keeps up with a card reader; 4-9 by pigz, slower, for the smallest archive.
   */
  compressLevel?: number;
}

export const DEFAULT_CLONE_LEVEL = 2;

function checkLevel(level: number): number {
  if (!Number.isInteger(level) || level < 1 || level > 9) {
    throw new AtlasError(
      'usage',
      `the compression level is a whole number from 1 to 9: ${level}`,
      'for example 2 (fast) or 9 (smallest)',
    );
  }
  return level;
}

/** One job per clone set and per card: a second one is refused, told which job holds them. */
export async function clone(env: Env, params: CloneParams, ctx: JobContext): Promise<CloneResult> {
  const set = join(resolve(env.library), cloneSetDirName(params.name));
  const job = `clone ${basename(set)}`;
  const locks = [() => lockOutput(set, job), () => lockCard(params.card, job)];
  return withJobLocks(locks, () => cloneLocked(env, params, ctx));
}

/**
 * clone_card.sh's steps after the card is reached; the root partition's size is bounded by the
 * card's (partclone reads its used blocks only, and says how far it is). In one pass (a card the
 * builder cannot reach, its root imaged while the used blocks are copied) the copy is the root's
 * clone: no step of its own follows for it. That is the plan wherever the card is staged; where the
 * root is cloned by the builder after all (its partclone cannot take the image, the card is
 * attached to the VM over NBD, the image is refused) the two-pass plan is announced again.
 */
export function clonePlan(
  env: Env,
  card: CardIdentity,
  onePass = !builderReachesCard(env, card),
): PlannedStep[] {
  return [
    { id: 'identify', label: `Reading ${describeCard(card)}` },
    ...stageSteps(env, card),
    { id: 'unmount', label: 'Unmounting the card' },
    { id: 'table', label: 'Saving the partition table' },
    { id: 'clone-boot', label: 'Cloning the boot partition (partclone.fat32)' },
    ...(onePass
      ? []
      : [{ id: 'clone-root', label: 'Cloning the root partition (partclone.ext4)', bytes: card.bytes }]),
    { id: 'checksum', label: 'Computing checksums' },
  ];
}

async function cloneLocked(env: Env, params: CloneParams, ctx: JobContext): Promise<CloneResult> {
  validateName(params.name);
  const level = checkLevel(params.compressLevel ?? DEFAULT_CLONE_LEVEL);
  const card = await identifyRawCard(params.card);
  const dirName = cloneSetDirName(params.name);
  const final = join(resolve(env.library), dirName);
  const partial = `${final}.partial`;
  await refuseExisting(final);
  await ensureLibraryDir(env.library, ctx);
  await discard(partial);
  await mkdir(partial, { mode: OWNER_DIR }); // the set holds the secrets: private from the start
  try {
    ctx.plan?.(clonePlan(env, card));
    ctx.step('identify', `Reading ${describeCard(card)}`);
    const b = env.builder;
    // The local builder reads the card itself; the Lima VM gets it as a block device (its maps
    // checked by the helper first), or else a used-block copy of it, during which the root's
    // partclone image is made from the blocks read and streamed to the builder to compress: one
    // pass over the card reader instead of a copy, then partclone over the copy.
    let tools: Record<string, string> | undefined;
    let image: PartcloneRequest | undefined;
    if (!builderReachesCard(env, card)) {
      tools = await toolVersions(env, ctx);
      const version = tools.partclone ?? '';
      if (PARTCLONE_VERSION.test(version)) image = { partition: 2, version };
      else
        ctx.log(
          `the root's partclone image is made after the copy: the builder's partclone is ${version || 'missing'}`,
        );
    }
    // Announced before the card is staged: the one pass, wherever the card is staged, unless the
    // builder's partclone rules it out.
    if (image === undefined && !builderReachesCard(env, card)) ctx.plan?.(clonePlan(env, card, false));
    const staged = await stageCard(env, card, ctx, { checkMaps: true, ...(image ? { image } : {}) });
    // Staged another way (the card attached to the VM over NBD) or its image refused: the root is
    // cloned by the builder after all, in a step of its own.
    if (image !== undefined && !staged.image) ctx.plan?.(clonePlan(env, card, false));
    let out;
    let sourceState: ReturnType<typeof stateFromFacts> = 'unknown';
    let hashing = new Map<string, GrowingHash>();
    try {
      const checkCopy = async () => {
        if (staged.hostPath) await refuseDamagedMaps(staged.hostPath, card.bytes, ctx);
        else if (staged.damaged?.length) throw damagedMapsError(staged.damaged);
        const facts = await runProbes(env, staged, STATE_PROBES, ctx).catch(() => new Map());
        sourceState = stateFromFacts(facts);
      };
      const args = [staged.builderPath, b.toBuilderPath(partial), String(level)];
      if (staged.image) {
        const image = staged.image;
        const script = b.runScript('clone_card.sh', [...args, '-'], ctx, { stdin: image });
        // A script that never started reading (cancelled, the VM gone) must not leave the copy
        // waiting on the image for ever.
        script.catch(() => image.destroy());
        hashing = hashImagesWhileWritten(partial, script, ctx);
        const checked = staged.complete.then(checkCopy);
        out = bothOrFirstCause(await Promise.allSettled([checked, script]));
      } else {
        await checkCopy();
        const script = b.runScript('clone_card.sh', args, ctx);
        hashing = hashImagesWhileWritten(partial, script, ctx);
        out = await script;
      }
    } finally {
      await staged.release();
    }
    refuseUnclonedPartitions(await readFile(join(partial, 'partition-table.dump'), 'utf8'));

    await makeOwnerOnly(partial); // what the script wrote, with its own umask
    ctx.step('checksum', 'Computing checksums');
    const files: ManifestFile[] = [];
    for (const name of (await readdir(partial)).sort()) {
      const path = join(partial, name);
      const followed = await hashing.get(name)?.result.catch(() => undefined);
      const sum =
        followed && followed.bytes === (await stat(path)).size ? followed : await sha256File(path, ctx);
      files.push({ name, ...sum });
    }
    const parsed = parseArtifactName(dirName);
    const one = (k: string) => Number(out.results.get(k)?.[0] ?? 0);
    const manifest = newManifest({
      kind: 'clone-set',
      phase: 1,
      name: dirName,
      ...(parsed?.version ? { version: parsed.version } : {}),
      ...(parsed?.tag ? { tag: parsed.tag } : {}),
      builder: b.describe(),
      source: { path: card.path, kind: 'card', bytes: card.bytes, description: describeCard(card) },
      files,
      layout: {
        table: out.results.get('label')?.[0] ?? '',
        bootStart: one('boot-start'),
        bootSectors: one('boot-sectors'),
        rootStart: one('root-start'),
        rootSectors: one('root-sectors'),
      },
      sourceState,
      compression: { codec: out.results.get('compressor')?.[0] ?? 'unknown', level },
      tools: tools ?? (await toolVersions(env, ctx)),
      ...(staged.via !== 'direct'
        ? {
            notes: [
              staged.via === 'staged'
                ? `read from the card: ${staged.readBytes} of ${card.bytes} bytes (used blocks only${staged.image ? "; the root's partclone image made from them as they were read" : ''})`
                : `read from the card: ${staged.readBytes} of ${card.bytes} bytes (attached in the builder as a block device)`,
              ...staged.fallbacks,
            ],
          }
        : {}),
    });
    await writeManifest(manifestPathFor(partial, 'clone-set'), manifest);
    await publish(partial, final);
    return { dir: final, files, sourceState };
  } catch (e) {
    await discard(partial);
    throw e;
  }
}

/**
 * The outcome of a copy (with its checks) and the script fed from it: the copy's failure is the
 * cause (the card was removed, its maps are damaged: the script then fails on a cut image), unless
 * the copy only failed because the script had stopped reading (isReaderGone).
 */
function bothOrFirstCause<T>([copy, script]: [PromiseSettledResult<unknown>, PromiseSettledResult<T>]): T {
  if (copy.status === 'rejected') {
    const scriptStopped = script.status === 'rejected' && isReaderGone(copy.reason);
    throw scriptStopped ? script.reason : copy.reason;
  }
  if (script.status === 'rejected') throw script.reason;
  return script.value;
}

/**
 * The images' checksums, read as the script writes them (one sequential pass each), so only their
 * ends are left to hash when it is done.
 */
function hashImagesWhileWritten(
  set: string,
  script: Promise<unknown>,
  ctx: JobContext,
): Map<string, GrowingHash> {
  const images = ['sdc1-boot.partclone.gz', 'sdc2-root.partclone.gz'];
  return new Map(images.map((name) => [name, hashWhileWritten(join(set, name), script, ctx.signal)]));
}

export function cloneSetPath(library: string, nameOrPath: string): string {
  if (nameOrPath.includes('/')) {
    // A set folder given by path: anything but unfinished output (or a lock, a sidecar).
    const path = resolve(nameOrPath);
    validateNotReserved(basename(path));
    return path;
  }
  return join(resolve(library), cloneSetDirName(basename(nameOrPath)));
}
