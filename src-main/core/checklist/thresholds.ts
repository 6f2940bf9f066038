/**
 * The user's own checklist: a copy of the shipped one kept in the library as verify-checklist.json,
 * made the first time a threshold is changed (the shipped file is never written). Verify and shrink,
 * in the CLI and the app, use it when it is there and no other checklist is given.
 */
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AtlasError } from '../errors.js';
import { parseChecklist, type Rule } from './checklist.js';

export const USER_CHECKLIST = 'verify-checklist.json';

export function userChecklistPath(library: string): string {
  return join(resolve(library), USER_CHECKLIST);
}

/** The library's checklist, when the user has one. */
export async function userChecklist(library: string): Promise<string | undefined> {
  const p = userChecklistPath(library);
  return (await stat(p).catch(() => undefined))?.isFile() ? p : undefined;
}

type CountRule = Extract<Rule, { type: 'count' | 'packages' }>;

function countRuleOf(rule: Rule): CountRule | undefined {
  if (rule.type === 'count' || rule.type === 'packages') return rule;
  if (rule.type === 'all') {
    const counts = rule.rules.map(countRuleOf).filter((r): r is CountRule => r !== undefined);
    return counts.length === 1 ? counts[0] : undefined;
  }
  return undefined;
}

/**
 * Sets the least number a count check expects (the Plymouth theme's files, node_modules' packages)
 * in the library's checklist, copied from `shipped` first when there is none yet. Returns its path.
 */
export async function setCountThreshold(
  library: string,
  shipped: string,
  id: string,
  min: number,
): Promise<string> {
  if (!Number.isInteger(min) || min < 0 || min > 1_000_000)
    throw new AtlasError('bad-input', `a threshold is a whole number from 0, not ${min}`);
  const target = userChecklistPath(library);
  const source = (await userChecklist(library)) ?? shipped;
  const json = JSON.parse(await readFile(source, 'utf8')) as {
    checks?: Array<{ id: string; pass?: string; rule: Rule }>;
  };
  const list = parseChecklist(json, source);
  const check = list.checks.find((c) => c.id === id);
  if (!check) throw new AtlasError('not-found', `the checklist has no check "${id}"`);
  const rule = countRuleOf(check.rule);
  if (!rule) throw new AtlasError('bad-input', `check "${id}" counts nothing: it has no threshold`);
  rule.min = min;
  if (rule.max !== undefined && rule.max < min) rule.max = min;
  check.pass = `${rule.type === 'packages' ? `${min}+ packages` : `at least ${min}`} (changed from the shipped checklist)`;
  parseChecklist(json, target);
  await writeFile(`${target}.partial`, `${JSON.stringify(json, null, 2)}\n`, { mode: 0o600 });
  await rename(`${target}.partial`, target);
  return target;
}
