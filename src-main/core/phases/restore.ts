/**
 * Phase 1 Restore: a clone set -> a card, root partition grown to fill it. The card's size is
 * checked against the clone before anything is written, and its identity right before writing.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AtlasError } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import {
  assertWritableCard,
  describeCard,
  identifyCard,
  recheckCard,
  type CardIdentity,
} from '../cards/card.js';
import { CLONE_SET_FILES } from '../library/library.js';
import { cloneSetPath } from './clone.js';
import type { Env } from './env.js';

export interface RestoreParams {
  card: string;
  set: string;
  /** The identity captured when the user picked the card (re-checked before writing). */
  expected?: CardIdentity;
}

export interface RestoreResult {
  card: string;
  set: string;
  neededBytes: number;
  rootStart: number;
  rootSectors: number;
  grown: boolean;
}

/** Bytes a card needs for this dump: the end of the last partition (+ the backup GPT). */
export function bytesNeededByDump(dump: string): number {
  let end = 0;
  for (const line of dump.split('\n')) {
    const start = /start=\s*(\d+)/.exec(line);
    const size = /size=\s*(\d+)/.exec(line);
    if (start && size) end = Math.max(end, Number(start[1]) + Number(size[1]));
  }
  if (/^label:\s*gpt/m.test(dump)) end += 33;
  return end * 512;
}

export async function restore(env: Env, params: RestoreParams, ctx: JobContext): Promise<RestoreResult> {
  const set = cloneSetPath(env.library, params.set);
  const st = await stat(set).catch(() => undefined);
  if (!st?.isDirectory()) {
    throw new AtlasError(
      'not-found',
      `no clone set ${params.set} (looked for ${set})`,
      'run ods-sd list to see the clone sets',
    );
  }
  for (const f of CLONE_SET_FILES) {
    const s = await stat(join(set, f)).catch(() => undefined);
    if (!s || s.size === 0)
      throw new AtlasError('bad-input', `the clone set is incomplete: ${f} is missing in ${set}`);
  }
  const needed = bytesNeededByDump(await readFile(join(set, 'partition-table.dump'), 'utf8'));
  if (needed === 0) throw new AtlasError('bad-input', `partition-table.dump in ${set} lists no partitions`);
  const card = params.expected ?? (await identifyCard(params.card));
  ctx.step('check', `Checking ${describeCard(card)}`);
  await assertWritableCard(card, needed);
  await recheckCard(card);

  const b = env.builder;
  const out = await b.runScript(
    'restore_golden.sh',
    [b.toBuilderPath(card.path), '--set-dir', b.toBuilderPath(set)],
    ctx,
  );
  const one = (k: string) => out.results.get(k)?.[0] ?? '';
  return {
    card: card.path,
    set,
    neededBytes: needed,
    rootStart: Number(one('root-start')),
    rootSectors: Number(one('root-sectors')),
    grown: one('grown') === 'yes',
  };
}
