/**
 * Small runtime checks for values that arrive over IPC. A check either returns the value, typed,
 * or throws a bad-input AtlasError that names the argument and says what is allowed. Objects
 * are checked strictly: an unknown key is refused, so nothing unexpected reaches the core.
 */
import { isAbsolute, normalize } from 'node:path';
import { AtlasError } from '../core/errors.js';

export type Check<T> = (value: unknown, at: string) => T;

function refuse(at: string, what: string): never {
  throw new AtlasError('bad-input', `invalid argument ${at}: ${what}`, 'this is a bug in the app: report it');
}

export function str(opts: { max?: number; pattern?: RegExp; min?: number } = {}): Check<string> {
  const max = opts.max ?? 4096;
  return (v, at) => {
    if (typeof v !== 'string') refuse(at, 'expected a string');
    if (v.length < (opts.min ?? 0) || v.length > max)
      refuse(at, `expected ${opts.min ?? 0}-${max} characters`);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000]/.test(v)) refuse(at, 'contains a NUL character');
    if (opts.pattern && !opts.pattern.test(v)) refuse(at, `does not match ${opts.pattern}`);
    return v;
  };
}

/** An absolute, normalized path without control characters that does not look like an option. */
export function path(): Check<string> {
  return (v, at) => {
    if (typeof v !== 'string' || v.length === 0 || v.length > 4096) refuse(at, 'expected a path');
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f]/.test(v)) refuse(at, 'a path must not contain control characters');
    if (!isAbsolute(v)) refuse(at, 'expected an absolute path');
    if (normalize(v) !== v) refuse(at, 'expected a normalized path');
    if (v.split('/').includes('..')) refuse(at, 'a path must not contain ".."');
    return v;
  };
}

export function int(opts: { min?: number; max?: number } = {}): Check<number> {
  return (v, at) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) refuse(at, 'expected an integer');
    if (v < (opts.min ?? 0) || v > (opts.max ?? Number.MAX_SAFE_INTEGER)) refuse(at, 'out of range');
    return v;
  };
}

export function bool(): Check<boolean> {
  return (v, at) => {
    if (typeof v !== 'boolean') refuse(at, 'expected true or false');
    return v;
  };
}

export function oneOf<const T extends readonly string[]>(values: T): Check<T[number]> {
  return (v, at) => {
    if (typeof v !== 'string' || !values.includes(v)) refuse(at, `expected one of ${values.join(', ')}`);
    return v as T[number];
  };
}

export function nullable<T>(check: Check<T>): Check<T | null> {
  return (v, at) => (v === null ? null : check(v, at));
}

export function arr<T>(check: Check<T>, opts: { min?: number; max?: number } = {}): Check<T[]> {
  return (v, at) => {
    if (!Array.isArray(v)) refuse(at, 'expected a list');
    if (v.length < (opts.min ?? 0) || v.length > (opts.max ?? 64)) refuse(at, 'wrong number of items');
    return v.map((x, i) => check(x, `${at}[${i}]`));
  };
}

const OPTIONAL = Symbol('optional');
type OptionalCheck<T> = Check<T | undefined> & { [OPTIONAL]: true };

/** Marks an object key as optional: absent or undefined is allowed. */
export function opt<T>(check: Check<T>): OptionalCheck<T> {
  const c = ((v: unknown, at: string) => (v === undefined ? undefined : check(v, at))) as OptionalCheck<T>;
  c[OPTIONAL] = true;
  return c;
}

type Shape = Record<string, Check<unknown>>;
type Out<S extends Shape> = {
  [K in keyof S as S[K] extends OptionalCheck<unknown> ? never : K]: ReturnType<S[K]>;
} & {
  [K in keyof S as S[K] extends OptionalCheck<unknown> ? K : never]?: Exclude<ReturnType<S[K]>, undefined>;
};

/** A plain object with exactly these keys (optional ones may be missing). */
export function obj<S extends Shape>(shape: S): Check<Out<S>> {
  return (v, at) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) refuse(at, 'expected an object');
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) refuse(at, 'expected a plain object');
    const input = v as Record<string, unknown>;
    for (const key of Object.keys(input)) {
      if (!Object.prototype.hasOwnProperty.call(shape, key)) refuse(`${at}.${key}`, 'unknown key');
    }
    const out: Record<string, unknown> = {};
    for (const [key, check] of Object.entries(shape)) {
      const value = check(input[key], `${at}.${key}`);
      if (value !== undefined) out[key] = value;
    }
    return out as Out<S>;
  };
}

/** An object told apart by its `kind` key, each kind with its own shape. */
export function byKind<M extends Record<string, Check<unknown>>>(
  variants: M,
): Check<{ [K in keyof M]: ReturnType<M[K]> }[keyof M]> {
  return (v, at) => {
    const kind = (v as { kind?: unknown } | null)?.kind;
    if (typeof kind !== 'string' || !Object.prototype.hasOwnProperty.call(variants, kind))
      refuse(`${at}.kind`, `expected one of ${Object.keys(variants).join(', ')}`);
    return variants[kind]!(v, at) as { [K in keyof M]: ReturnType<M[K]> }[keyof M];
  };
}

/** The argument list of a channel: exactly these positions. */
export function tuple<T extends unknown[]>(...checks: { [I in keyof T]: Check<T[I]> }): Check<T> {
  return (v, at) => {
    if (!Array.isArray(v)) refuse(at, 'expected an argument list');
    if (v.length !== checks.length) refuse(at, `expected ${checks.length} argument(s), got ${v.length}`);
    return checks.map((c, i) => (c as Check<unknown>)(v[i], `${at}#${i + 1}`)) as T;
  };
}
