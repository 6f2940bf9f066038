/**
 * Clone sets that live outside the library (made by tools/ods-sd, or on the lab box): checked before
 * they are offered, and adopted into the library on request. A set elsewhere is only ever read: its
 * manifest, once checked, is kept in the library's `.elsewhere/` record, and adopting copies it.
 */
import { copyFile, mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { createReadStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { AtlasError } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import { CLONE_SET_FILES } from '../library/library.js';
import { discard, publish } from '../library/files.js';
import { lockOutput, withJobLocks } from '../library/job-lock.js';
import {
  manifestPathFor,
  newManifest,
  readManifest,
  writeManifest,
  type Manifest,
} from '../library/manifest.js';
import { ensureLibraryDir, makeOwnerOnly, OWNER_DIR } from '../library/owner-only.js';
import { parsePartitionDump } from '../library/partition-dump.js';
import { elsewhereManifestPath, findSet, type FoundSet } from '../library/set-places.js';
import { cloneSetDirName, parseArtifactName } from '../naming.js';
import { SCRIPTS_DIR } from '../paths.js';
import { validateName } from '../validate.js';
import { refuseExisting, sha256File } from './output-file.js';
import { toolVersions } from './tool-versions.js';
import type { Env } from './env.js';
import type { AdoptResult } from '../../common/results.js';

/** The first bytes of every partclone image (partclone's image_head: "partclone-image\0"). */
const PARTCLONE_MAGIC = 'partclone-image';

/** Reads the first bytes of a .partclone.gz and checks they are a partclone image's header. */
export async function checkPartcloneHeader(path: string): Promise<void> {
  const head = await new Promise<Buffer>((done, fail) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const src = createReadStream(path);
    const gz = createGunzip();
    const finish = () => {
      src.destroy();
      gz.destroy();
      done(Buffer.concat(chunks));
    };
    gz.on('data', (c: Buffer) => {
      chunks.push(c);
      got += c.length;
      if (got >= 64) finish();
    });
    gz.on('end', finish);
    gz.on('error', fail);
    src.on('error', fail);
    src.pipe(gz);
  }).catch((e: Error) => {
    throw new AtlasError('bad-input', `${path} is not a gzip file: ${e.message}`, 'clone the card again');
  });
  if (head.subarray(0, PARTCLONE_MAGIC.length).toString('latin1') !== PARTCLONE_MAGIC) {
    throw new AtlasError(
      'bad-input',
      `${path} is not a partclone image (no partclone header)`,
      'clone the card again',
    );
  }
}

/** The library's record of a set elsewhere, when it was checked and its files have not changed since. */
export async function setRecord(library: string, set: FoundSet): Promise<Manifest | undefined> {
  const m = await readManifest(elsewhereManifestPath(library, set.path));
  if (!m || m.source.path !== set.path) return undefined;
  for (const f of m.files) {
    const st = await stat(join(set.path, f.name)).catch(() => undefined);
    if (st?.size !== f.bytes) return undefined;
  }
  return m;
}

/** The manifest of a set: its own (in the library), the record of one checked before, else none. */
export async function manifestOfSet(library: string, set: FoundSet): Promise<Manifest | undefined> {
  return set.place.kind === 'library'
    ? readManifest(manifestPathFor(set.path, 'clone-set'))
    : setRecord(library, set);
}

/**
 * Checks a set elsewhere as a restore would need it (the dump as restore reads it, each image's
 * partclone header, partclone.chkimg over each image), then records its manifest in the library.
 */
export async function checkSetElsewhere(env: Env, set: FoundSet, ctx: JobContext): Promise<Manifest> {
  if (set.missing.length) {
    throw new AtlasError(
      'bad-input',
      `the clone set is incomplete: ${set.missing.join(', ')} missing in ${set.path}`,
    );
  }
  ctx.step('check-set', `Checking the clone set ${set.path}`);
  const dumpPath = join(set.path, 'partition-table.dump');
  const dump = parsePartitionDump(await readFile(dumpPath, 'utf8'), dumpPath);
  for (const f of CLONE_SET_FILES.slice(1)) await checkPartcloneHeader(join(set.path, f));
  await env.builder.runScript('check_set.sh', [env.builder.toBuilderPath(set.path)], ctx);
  ctx.step('checksum', 'Computing checksums');
  const files = [];
  for (const name of (await readdir(set.path)).sort()) {
    const st = await stat(join(set.path, name));
    if (st.isFile()) files.push({ name, ...(await sha256File(join(set.path, name), ctx)) });
  }
  const [boot, root] = dump.partitions;
  const manifest = newManifest({
    kind: 'clone-set',
    phase: 1,
    name: set.name,
    builder: env.builder.describe(),
    source: {
      path: set.path,
      kind: 'clone-set',
      bytes: files.reduce((n, f) => n + f.bytes, 0),
      description: `a clone set in ${set.place.path}, checked where it is`,
    },
    files,
    layout: {
      table: dump.label,
      bootStart: boot!.start,
      bootSectors: boot!.size,
      rootStart: root!.start,
      rootSectors: root!.size,
    },
    tools: await toolVersions(env, ctx),
    notes: ['checked: partition table, partclone headers, partclone.chkimg'],
  });
  const record = elsewhereManifestPath(env.library, set.path);
  await ensureLibraryDir(env.library, ctx);
  await mkdir(resolve(record, '..'), { recursive: true, mode: OWNER_DIR });
  await writeManifest(record, manifest);
  return manifest;
}

/** A set by name or path, ready to restore: one elsewhere is checked first, unless it was already. */
export async function locateSet(env: Env, nameOrPath: string, ctx: JobContext): Promise<string> {
  const set = await findSet(env.library, nameOrPath);
  const own = await readManifest(manifestPathFor(set.path, 'clone-set'));
  if (set.place.kind !== 'library' && !own && !(await setRecord(env.library, set))) {
    await checkSetElsewhere(env, set, ctx);
  }
  return set.path;
}

export interface AdoptParams {
  /** The set: its path, or its name in a place. */
  set: string;
  /** Its name in the library (golden-clone-NAME); default: its own name. */
  name?: string;
}

export { type AdoptResult } from '../../common/results.js';

/**
 * Copies a set elsewhere into the library as the seed names one (golden-clone-NAME/ with the three
 * files, restore_golden.sh and a manifest), every file's checksum compared with the checked
 * original's. The original is left as it was.
 */
export async function adoptSet(env: Env, params: AdoptParams, ctx: JobContext): Promise<AdoptResult> {
  const set = await findSet(env.library, params.set);
  if (set.place.kind === 'library') {
    throw new AtlasError('exists', `${set.path} is already in the library`);
  }
  const dirName = cloneSetDirName(validateName(params.name ?? set.name));
  const final = join(resolve(env.library), dirName);
  return withJobLocks([() => lockOutput(final, `adopt ${dirName}`)], async () => {
    await refuseExisting(final);
    const checked = (await setRecord(env.library, set)) ?? (await checkSetElsewhere(env, set, ctx));
    const partial = `${final}.partial`;
    await discard(partial);
    await mkdir(partial, { mode: OWNER_DIR });
    try {
      ctx.step('copy', `Copying ${set.path} into the library as ${dirName}`);
      const files = [];
      for (const name of CLONE_SET_FILES) {
        await copyFile(join(set.path, name), join(partial, name));
        const sum = await sha256File(join(partial, name), ctx);
        const was = checked.files.find((f) => f.name === name);
        if (was?.sha256 !== sum.sha256) {
          throw new AtlasError(
            'verify-failed',
            `${name} changed while it was copied from ${set.path}`,
            'adopt it again',
          );
        }
        files.push({ name, ...sum });
      }
      await copyFile(join(SCRIPTS_DIR, 'restore_golden.sh'), join(partial, 'restore_golden.sh'));
      files.push({
        name: 'restore_golden.sh',
        ...(await sha256File(join(partial, 'restore_golden.sh'), ctx)),
      });
      await makeOwnerOnly(partial);
      const parsed = parseArtifactName(dirName);
      const manifest: Manifest = {
        ...checked,
        name: dirName,
        ...(parsed?.version ? { version: parsed.version } : {}),
        ...(parsed?.tag ? { tag: parsed.tag } : {}),
        createdAt: new Date().toISOString(),
        source: { ...checked.source, description: `adopted from ${set.path} (left as it was)` },
        files: files.sort((a, b) => a.name.localeCompare(b.name)),
      };
      await writeManifest(manifestPathFor(partial, 'clone-set'), manifest);
      await publish(partial, final);
      return { from: set.path, dir: final, files };
    } catch (e) {
      await discard(partial);
      throw e;
    }
  });
}
