/**
 * The pre-shrink verification checklist: a declarative JSON file (resources/verify-checklist.json,
 * editable by the user), turned into probes for probe_root.sh, and evaluated against the facts
 * the probes return. Pure logic: no I/O besides loading the file.
 */
import { formatBytes } from '../../common/format-bytes.js';
import { readFile } from 'node:fs/promises';
import { AtlasError } from '../errors.js';
import { type CheckResult, type CountShortfall } from '../../common/results.js';
export { type CheckResult, type CountShortfall } from '../../common/results.js';

export type Rule =
  | { type: 'exists'; path: string }
  | { type: 'absent'; path: string }
  | { type: 'file-content'; path: string; equals?: string; matches?: string }
  | { type: 'max-size'; path: string; max: number }
  | { type: 'count'; path: string; pattern?: string; recursive?: boolean; min?: number; max?: number }
  /** Packages installed in a node_modules folder, counted as npm does (see probe_root.sh). */
  | { type: 'packages'; path: string; min?: number; max?: number }
  /**
   * A symlink: `target` is its exact text; `resolvesTo` (one path or several) is where it must lead,
   * resolved inside the card, so /lib/… , /usr/lib/… and a relative link to the same file all match.
   */
  | { type: 'symlink'; path: string; target?: string; resolvesTo?: string | string[] }
  | { type: 'all'; rules: Rule[] };

export interface Check {
  id: string;
  label: string;
  pass?: string;
  severity?: 'error' | 'warn';
  note?: string;
  rule: Rule;
}

export interface Checklist {
  title: string;
  checks: Check[];
}

export interface Probe {
  id: string;
  kind: 'stat' | 'count' | 'count-r' | 'count-npm';
  path: string;
  pattern?: string;
}

export interface Fact {
  exists: boolean;
  type?: 'file' | 'dir' | 'symlink' | 'other';
  size?: number;
  mode?: string;
  uid?: number;
  count?: number;
  content?: string;
  target?: string;
  /** What a symlink leads to inside the card: file, dir, other, missing or loop. */
  ftype?: 'file' | 'dir' | 'other' | 'missing' | 'loop';
  /** The entry's path inside the card with every symlink resolved. */
  resolved?: string;
  /** The path itself runs into a symlink loop. */
  error?: 'loop';
}

const PATH_RE = /^\/[^\t\n\r]*$/;
const PATTERN_RE = /^[^\t\n\r/]+$/;

function checkRule(rule: unknown, where: string): Rule {
  const r = rule as Rule;
  const fail = (why: string): never => {
    throw new AtlasError(
      'bad-input',
      `checklist ${where}: ${why}`,
      'fix the checklist file (see resources/verify-checklist.json)',
    );
  };
  if (!r || typeof r !== 'object' || typeof (r as { type?: unknown }).type !== 'string')
    fail('a rule needs a type');
  if (r.type === 'all') {
    if (!Array.isArray(r.rules) || r.rules.length === 0) fail('"all" needs a list of rules');
    r.rules.forEach((x, i) => checkRule(x, `${where}.rules[${i}]`));
    return r;
  }
  if (!['exists', 'absent', 'file-content', 'max-size', 'count', 'packages', 'symlink'].includes(r.type))
    fail(`unknown rule type ${r.type}`);
  const goodPath = (p: unknown) => typeof p === 'string' && PATH_RE.test(p) && !p.split('/').includes('..');
  if (!goodPath(r.path)) fail('path must be absolute, without "..", tabs or line breaks');
  if (r.type === 'symlink' && r.resolvesTo !== undefined) {
    const to = Array.isArray(r.resolvesTo) ? r.resolvesTo : [r.resolvesTo];
    if (to.length === 0 || !to.every(goodPath))
      fail('resolvesTo must be absolute paths, without "..", tabs or line breaks');
  }
  if (
    (r.type === 'count' || r.type === 'packages') &&
    ![r.min, r.max].every((n) => n === undefined || Number.isInteger(n))
  )
    fail('min and max must be whole numbers');
  if (r.type === 'count' && r.pattern !== undefined && !PATTERN_RE.test(r.pattern)) fail('bad pattern');
  if (r.type === 'file-content' && r.matches !== undefined) {
    try {
      new RegExp(r.matches);
    } catch {
      fail('"matches" is not a valid regular expression');
    }
  }
  return r;
}

export function parseChecklist(json: unknown, source = 'checklist'): Checklist {
  const c = json as Checklist;
  if (!c || !Array.isArray(c.checks) || c.checks.length === 0) {
    throw new AtlasError(
      'bad-input',
      `${source} has no checks`,
      'a checklist is {"title": ..., "checks": [...]}',
    );
  }
  const ids = new Set<string>();
  for (const [i, check] of c.checks.entries()) {
    if (typeof check.id !== 'string' || !/^[A-Za-z0-9_.-]{1,40}$/.test(check.id) || ids.has(check.id)) {
      throw new AtlasError('bad-input', `${source}: check ${i} needs a unique id of letters, digits, . _ -`);
    }
    ids.add(check.id);
    if (typeof check.label !== 'string')
      throw new AtlasError('bad-input', `${source}: check ${check.id} needs a label`);
    checkRule(check.rule, `${source}: check ${check.id}`);
  }
  return { title: c.title ?? 'Checklist', checks: c.checks };
}

export async function loadChecklist(path: string): Promise<Checklist> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new AtlasError('not-found', `no checklist file at ${path}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new AtlasError('bad-input', `${path} is not valid JSON: ${(e as Error).message}`);
  }
  return parseChecklist(json, path);
}

type Leaf = Exclude<Rule, { type: 'all' }>;

function probeOf(rule: Leaf): Probe {
  if (rule.type === 'packages') return { id: '', kind: 'count-npm', path: rule.path, pattern: '*' };
  if (rule.type === 'count') {
    return {
      id: '',
      kind: rule.recursive ? 'count-r' : 'count',
      path: rule.path,
      pattern: rule.pattern ?? '*',
    };
  }
  return { id: '', kind: 'stat', path: rule.path };
}

function probeKey(p: Probe): string {
  return `${p.kind}\t${p.path}\t${p.pattern ?? ''}`;
}

function leaves(rule: Rule): Leaf[] {
  return rule.type === 'all' ? rule.rules.flatMap(leaves) : [rule];
}

function resolvesTo(rule: Leaf): string[] {
  if (rule.type !== 'symlink' || rule.resolvesTo === undefined) return [];
  return Array.isArray(rule.resolvesTo) ? rule.resolvesTo : [rule.resolvesTo];
}

/** The probes one rule needs: its own, and a stat of each path a link must resolve to. */
function probesOfLeaf(rule: Leaf): Probe[] {
  return [probeOf(rule), ...resolvesTo(rule).map((path): Probe => ({ id: '', kind: 'stat', path }))];
}

/** Every distinct probe the checklist needs, with ids p0, p1, ... */
export function probesFor(checks: Check[]): Probe[] {
  const seen = new Map<string, Probe>();
  for (const c of checks) {
    for (const p of leaves(c.rule).flatMap(probesOfLeaf)) {
      const key = probeKey(p);
      if (!seen.has(key)) seen.set(key, { ...p, id: `p${seen.size}` });
    }
  }
  return [...seen.values()];
}

export function probesToTsv(probes: Probe[]): string {
  return probes.map((p) => [p.id, p.kind, p.path, p.pattern ?? ''].join('\t')).join('\n') + '\n';
}

export function factFromFields(f: Record<string, string>): Fact {
  const fact: Fact = { exists: f.exists === '1' };
  if (f.type) fact.type = f.type as Fact['type'];
  if (f.size !== undefined) fact.size = Number(f.size);
  if (f.mode !== undefined) fact.mode = f.mode;
  if (f.uid !== undefined) fact.uid = Number(f.uid);
  if (f.count !== undefined) fact.count = Number(f.count);
  if (f.content !== undefined) fact.content = Buffer.from(f.content, 'base64').toString('utf8');
  if (f.target !== undefined) fact.target = Buffer.from(f.target, 'base64').toString('utf8');
  if (f.resolved !== undefined) fact.resolved = Buffer.from(f.resolved, 'base64').toString('utf8');
  if (f.ftype !== undefined) fact.ftype = f.ftype as Fact['ftype'];
  if (f.error === 'loop') fact.error = 'loop';
  return fact;
}

/** A symlink whose target is not in the card (missing, or a loop). */
function dangling(f: Fact): boolean {
  return f.type === 'symlink' && (f.ftype === 'missing' || f.ftype === 'loop');
}

interface LeafResult {
  ok: boolean;
  evidence: string;
  shortfall?: CountShortfall;
}

function shortfallOf(rule: Extract<Leaf, { type: 'count' | 'packages' }>, f: Fact): CountShortfall {
  const pattern = rule.type === 'count' && rule.pattern && rule.pattern !== '*' ? rule.pattern : undefined;
  return {
    path: rule.path,
    counted: rule.type === 'packages' ? 'packages' : rule.recursive ? 'files' : 'entries',
    ...(pattern ? { pattern } : {}),
    recursive: rule.type === 'count' && rule.recursive === true,
    found: f.count ?? 0,
    missing: !f.exists,
    ...(rule.min !== undefined ? { min: rule.min } : {}),
    ...(rule.max !== undefined ? { max: rule.max } : {}),
  };
}

function evalLeaf(rule: Leaf, factAt: (probe: Probe) => Fact | undefined): LeafResult {
  const f = factAt(probeOf(rule)) ?? { exists: false };
  const p = rule.path;
  if (f.error === 'loop') return { ok: rule.type === 'absent', evidence: `${p}: a symlink loop in the card` };
  switch (rule.type) {
    case 'exists':
      if (f.exists && dangling(f))
        return {
          ok: false,
          evidence: `${p} -> ${f.target} leads nowhere in the card (${f.ftype === 'loop' ? 'a symlink loop' : 'missing'})`,
        };
      return {
        ok: f.exists,
        evidence: f.exists
          ? `${p} present (${f.type === 'symlink' ? `symlink to a ${f.ftype}` : f.type}, ${formatBytes(f.size ?? 0)})`
          : `${p} missing`,
      };
    case 'absent':
      return { ok: !f.exists, evidence: f.exists ? `${p} still present` : `${p} absent` };
    case 'max-size': {
      if (!f.exists) return { ok: true, evidence: `${p} absent` };
      return {
        ok: (f.size ?? 0) <= rule.max,
        evidence: `${p} is ${formatBytes(f.size ?? 0)} (at most ${formatBytes(rule.max)})`,
      };
    }
    case 'file-content': {
      if (!f.exists || f.content === undefined)
        return { ok: false, evidence: `${p} ${f.exists ? 'unreadable' : 'missing'}` };
      const text = f.content.trim();
      const ok =
        rule.equals !== undefined ? text === rule.equals : new RegExp(rule.matches ?? '').test(f.content);
      return { ok, evidence: `${p} = ${JSON.stringify(text.slice(0, 60))}` };
    }
    case 'count':
    case 'packages': {
      const n = f.count ?? 0;
      const ok = f.exists && n >= (rule.min ?? 0) && (rule.max === undefined || n <= rule.max);
      const want = [
        rule.min !== undefined ? `at least ${rule.min}` : '',
        rule.max !== undefined ? `at most ${rule.max}` : '',
      ]
        .filter(Boolean)
        .join(', ');
      return {
        ok,
        evidence: f.exists
          ? `${n} ${rule.type === 'packages' ? 'packages' : (rule.pattern ?? '*')} in ${p}${want ? ` (${want})` : ''}`
          : `${p} missing`,
        ...(ok ? {} : { shortfall: shortfallOf(rule, f) }),
      };
    }
    case 'symlink': {
      if (!f.exists) return { ok: false, evidence: `${p} missing` };
      if (f.type !== 'symlink') return { ok: false, evidence: `${p} is a ${f.type}, not a symlink` };
      if (rule.target !== undefined && f.target !== rule.target)
        return { ok: false, evidence: `${p} -> ${f.target} (not ${rule.target})` };
      const to = resolvesTo(rule);
      if (to.length === 0) return { ok: true, evidence: `${p} -> ${f.target}` };
      if (f.ftype !== 'file')
        return { ok: false, evidence: `${p} -> ${f.target} leads to no file in the card` };
      const ok = to.some((t) => {
        const want = factAt({ id: '', kind: 'stat', path: t });
        return want?.exists === true && want.resolved !== undefined && want.resolved === f.resolved;
      });
      return { ok, evidence: `${p} -> ${f.target}${ok ? '' : ` (not ${to.join(' or ')})`}` };
    }
  }
}

export function evaluate(checklist: Checklist, probes: Probe[], facts: Map<string, Fact>): CheckResult[] {
  const byKey = new Map(probes.map((p) => [probeKey(p), facts.get(p.id)]));
  return checklist.checks.map((c) => {
    const results = leaves(c.rule).map((leaf) => evalLeaf(leaf, (p) => byKey.get(probeKey(p))));
    const shortfall = results.find((r) => r.shortfall)?.shortfall;
    return {
      id: c.id,
      label: c.label,
      ok: results.every((r) => r.ok),
      severity: c.severity ?? 'error',
      expected: c.pass ?? '',
      evidence: results.map((r) => r.evidence),
      ...(shortfall ? { shortfall } : {}),
    };
  });
}
