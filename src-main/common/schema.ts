/**
 * The building blocks of every request schema (valibot): the IPC channels' arguments and the
 * raw-disk helper's requests are described with these, once, and their types are inferred from
 * them. Each block carries the words of its refusal ("expected an absolute path"); `check` finds
 * the first problem of a value and says where it is. Pure: no Node, so the renderer and the
 * helper's bundle carry the same code.
 */
import * as v from 'valibot';

export { v };

/** Where in a value a problem is: object keys and list positions, outermost first. */
export type ProblemPath = Array<string | number>;

export interface Problem {
  path: ProblemPath;
  message: string;
  /** Set when the problem is a key the schema does not have. */
  unknownKey?: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: Problem };

const MAX_DEPTH = 16;

/** A string: bounded, without NUL, optionally matching a pattern. */
export function text(opts: { min?: number; max?: number; pattern?: RegExp } = {}) {
  const min = opts.min ?? 0;
  const max = opts.max ?? 4096;
  const size = `expected ${min}-${max} characters`;
  return v.pipe(
    v.string('expected a string'),
    v.minLength(min, size),
    v.maxLength(max, size),
    v.check((s) => !s.includes('\u0000'), 'contains a NUL character'),
    v.check((s) => opts.pattern?.test(s) ?? true, `does not match ${String(opts.pattern)}`),
  );
}

/** A short text without control characters (a model, a serial, what a place is). */
export function label(max = 256) {
  return v.pipe(
    v.string('expected a string'),
    v.maxLength(max, `expected at most ${max} characters`),
    // eslint-disable-next-line no-control-regex
    v.check((s) => !/[\u0000-\u001f]/.test(s), 'must not contain control characters'),
  );
}

/** True for an absolute POSIX path with no empty, "." or trailing parts ("/a//b", "/a/./b", "/a/"). */
function isNormalized(p: string): boolean {
  return (
    p === '/' ||
    p
      .slice(1)
      .split('/')
      .every((part) => part !== '' && part !== '.')
  );
}

/** An absolute, normalized path without control characters or ".." parts (so never an option). */
export function absolutePath() {
  return v.pipe(
    v.string('expected a path'),
    v.minLength(1, 'expected a path'),
    v.maxLength(4096, 'expected a path'),
    // eslint-disable-next-line no-control-regex
    v.check((p) => !/[\u0000-\u001f]/.test(p), 'a path must not contain control characters'),
    v.startsWith('/', 'expected an absolute path'),
    v.check((p) => !p.split('/').includes('..'), 'a path must not contain ".."'),
    v.check(isNormalized, 'expected a normalized path'),
  );
}

/** A safe integer in a range (0 and up unless told). */
export function int(opts: { min?: number; max?: number } = {}) {
  return v.pipe(
    v.number('expected an integer'),
    v.safeInteger('expected an integer'),
    v.minValue(opts.min ?? 0, 'out of range'),
    v.maxValue(opts.max ?? Number.MAX_SAFE_INTEGER, 'out of range'),
  );
}

export const bool = () => v.boolean('expected true or false');

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return v.picklist(values, `expected one of ${values.join(', ')}`);
}

/** A list of `item`s, at most 64 unless told. */
export function list<S extends v.GenericSchema>(item: S, opts: { min?: number; max?: number } = {}) {
  const min = opts.min ?? 0;
  const max = opts.max ?? 64;
  const count = `wrong number of items (expected ${min}-${max})`;
  return v.pipe(v.array(item, 'expected a list'), v.minLength(min, count), v.maxLength(max, count));
}

/** A plain object with exactly these keys: any other key is refused. */
export function record<E extends v.ObjectEntries>(entries: E) {
  return v.strictObject(entries, 'unknown key');
}

/** Objects told apart by their `kind` (or another key), each kind with its own keys. */
export function byKind<K extends string, const O extends v.VariantOptions<K>>(key: K, options: O) {
  const kinds = options.map((o) => {
    const entries = (o as unknown as { entries: Record<string, { literal?: unknown }> }).entries;
    return String(entries[key]?.literal);
  });
  return v.variant(key, options, `expected one of ${kinds.join(', ')}`);
}

/**
 * `value` as plain data (plain objects, lists, scalars) without its undefined keys, or the first
 * place where it is something else (a class instance, an object with a prototype).
 */
function plain(value: unknown, path: ProblemPath, depth = 0): { value: unknown } | Problem {
  if (value === null || typeof value !== 'object') return { value };
  if (depth > MAX_DEPTH) return { path, message: 'nested too deeply' };
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i += 1) {
      const r = plain(value[i], [...path, i], depth + 1);
      if (!('value' in r)) return r;
      out.push(r.value);
    }
    return { value: out };
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return { path, message: 'expected a plain object' };
  const out: Record<string, unknown> = {};
  for (const [k, item] of Object.entries(value)) {
    if (item === undefined) continue;
    const r = plain(item, [...path, k], depth + 1);
    if (!('value' in r)) return r;
    out[k] = r.value;
  }
  return { value: out };
}

/** The part of `value` at `path`. */
function at(value: unknown, path: ProblemPath): unknown {
  return path.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], value);
}

/**
 * Checks `value` against `schema`: the value as the schema yields it (a copy, without undefined
 * keys), or its first problem.
 */
export function check<S extends v.GenericSchema>(schema: S, value: unknown): Checked<v.InferOutput<S>> {
  const data = plain(value, []);
  if (!('value' in data)) return { ok: false, problem: data };
  const r = v.safeParse(schema, data.value, { abortEarly: true });
  if (r.success) return { ok: true, value: r.output };
  const issue = r.issues[0];
  const path: ProblemPath = (issue.path ?? []).map((p) => p.key as string | number);
  if (issue.type === 'strict_object' && issue.expected === 'never') {
    const parent = path.slice(0, -1);
    // A list where an object belongs: its positions are not unknown keys.
    if (Array.isArray(at(data.value, parent)))
      return { ok: false, problem: { path: parent, message: 'expected an object' } };
    return { ok: false, problem: { path, message: 'unknown key', unknownKey: String(path.at(-1)) } };
  }
  return { ok: false, problem: { path, message: issue.message } };
}

/** `a.b[0].c`: a problem's path as it reads in a message. */
export function dotPath(path: ProblemPath): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
}
