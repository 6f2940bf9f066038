/** The checklist's probes run on a card's root file system by probe_root.sh in the builder. */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobContext } from '../jobs/job.js';
import { factFromFields, probesToTsv, type Fact, type Probe } from '../checklist/checklist.js';
import { scratchDir } from '../library/files.js';
import type { Env } from './env.js';

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
