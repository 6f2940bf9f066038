/** Steps shared by several phases: probing a root file system, tool versions, free space, checksums. */
import { rm, stat, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AtlasError } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import { factFromFields, probesToTsv, type Fact, type Probe } from '../checklist/checklist.js';
import { exists, scratchDir } from '../library/files.js';
import { hashRange } from '../rawio/block-copy.js';
import type { Env } from './env.js';
import { formatBytes } from '../../common/format-bytes.js';

/** Runs probe_root.sh on a card: a host path, or `{ builderPath }` as the builder sees it. */
export async function runProbes(
  env: Env,
  card: string | { builderPath: string },
  probes: Probe[],
  ctx: JobContext,
): Promise<Map<string, Fact>> {
  const cardInBuilder = typeof card === 'string' ? env.builder.toBuilderPath(card) : card.builderPath;
  const dir = await scratchDir(env.library);
  try {
    const file = join(dir, 'probes.tsv');
    await writeFile(file, probesToTsv(probes));
    const out = await env.builder.runScript(
      'probe_root.sh',
      [cardInBuilder, env.builder.toBuilderPath(file)],
      ctx,
    );
    const facts = new Map<string, Fact>();
    for (const e of out.events) if (e.kind === 'fact') facts.set(e.id, factFromFields(e.fields));
    return facts;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function toolVersions(env: Env, ctx: JobContext): Promise<Record<string, string>> {
  const out = await env.builder.runScript('tool_versions.sh', [], ctx);
  const tools: Record<string, string> = {};
  for (const v of out.results.get('tool') ?? []) {
    const [name, version] = v.split(' ');
    if (name && version) tools[name] = version;
  }
  return tools;
}

export async function refuseExisting(path: string): Promise<void> {
  if (await exists(path)) {
    throw new AtlasError(
      'exists',
      `${path} already exists`,
      'choose another version/tag/name, or move the old one away first',
    );
  }
}

/** Fails early when `dir` has less than `bytes` free. */
export async function ensureFreeSpace(dir: string, bytes: number, what: string): Promise<void> {
  const s = await statfs(dir);
  const free = s.bavail * s.bsize;
  if (free < bytes) {
    throw new AtlasError(
      'no-space',
      `not enough free space in ${dir} for ${what}: ${formatBytes(free, { unit: 'GB', digits: 2 })} free, ${formatBytes(bytes, { unit: 'GB', digits: 2 })} needed`,
      'free some space',
      { next: [{ do: 'choose-library' }] },
    );
  }
}

export async function sha256File(path: string, ctx: JobContext): Promise<{ bytes: number; sha256: string }> {
  const { size } = await stat(path);
  return { bytes: size, sha256: await hashRange(path, size, ctx) };
}
