/**
 * What a command takes: positionals with their arity and options with their help, and the typed
 * values they become once checked (a usage error, naming the command, otherwise).
 */
import { AtlasError } from '../core/errors.js';

export interface BooleanOption {
  readonly type: 'boolean';
  readonly help: string;
  readonly short?: string;
}

export interface StringOption {
  readonly type: 'string';
  /** The value's name in the usage line (DIR, FILE, X.Y.Z). */
  readonly arg: string;
  readonly help: string;
  readonly short?: string;
  /** A command that cannot run without it (`insert --payload`). */
  readonly required?: boolean;
  /** The only values it takes (`--compress xz|zst`). */
  readonly choices?: readonly string[];
}

export type OptionSpec = BooleanOption | StringOption;
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export interface PositionalSpec {
  /** Its key in the run's `args`. */
  readonly name: string;
  /** Its name in the usage line (CARD, IMAGE|CARD). */
  readonly label: string;
  readonly optional?: boolean;
  /** The last positional may repeat: one or more (flash IMAGE CARD [CARD...]). */
  readonly variadic?: boolean;
}

type Given<S, T> = S extends { readonly required: true } ? T : T | undefined;
type OptionValue<S extends OptionSpec> = S extends BooleanOption
  ? boolean
  : S extends { readonly choices: readonly (infer C)[] }
    ? Given<S, C>
    : Given<S, string>;
type PositionalValue<S> = S extends { readonly variadic: true }
  ? string[]
  : S extends { readonly optional: true }
    ? string | undefined
    : string;

/** The options as the run receives them: a boolean is false when not given. */
export type OptionValues<O extends OptionSpecs> = { readonly [K in keyof O]: OptionValue<O[K]> };
/** The positionals by name. */
export type PositionalValues<P extends readonly PositionalSpec[]> = {
  readonly [S in P[number] as S['name']]: PositionalValue<S>;
};

/** The options every command takes. */
export const GLOBAL_OPTIONS = {
  library: {
    type: 'string',
    arg: 'DIR',
    help: 'the work directory with images and clone sets (default ~/atlas-build)',
  },
  json: { type: 'boolean', help: 'print the result as one JSON object on the last line of stdout' },
  yes: { type: 'boolean', help: 'answer yes to confirmations (needed without a terminal)' },
  verbose: { type: 'boolean', help: "show the tools' own output" },
  help: { type: 'boolean', short: 'h', help: 'this help' },
} as const satisfies OptionSpecs;

function usageError(message: string, hint: string): AtlasError {
  return new AtlasError('usage', message, hint);
}

/** `xz or zst`, `a, b or c`. */
function orList(words: readonly string[]): string {
  return words.length > 1 ? `${words.slice(0, -1).join(', ')} or ${words.at(-1)}` : (words[0] ?? '');
}

/** Options in parseArgs' own terms. */
export function parseArgsOptions(
  options: OptionSpecs,
): Record<string, { type: 'string' | 'boolean'; short?: string }> {
  return Object.fromEntries(
    Object.entries(options).map(([k, o]) => [
      k,
      o.short ? { type: o.type, short: o.short } : { type: o.type },
    ]),
  );
}

/** The positionals by name; `given` has passed the arity check, so every required one is there. */
export function positionalValues<P extends readonly PositionalSpec[]>(
  positionals: P,
  given: string[],
): PositionalValues<P> {
  const byName: Record<string, string | string[] | undefined> = {};
  positionals.forEach((p, i) => {
    byName[p.name] = p.variadic ? given.slice(i) : given[i];
  });
  return byName as PositionalValues<P>;
}

/** The options by name, each checked against its spec: booleans, required and chosen strings. */
export function optionValues<O extends OptionSpecs>(
  command: string,
  options: O,
  given: Record<string, string | boolean | undefined>,
): OptionValues<O> {
  const byName: Record<string, string | boolean | undefined> = {};
  for (const [k, o] of Object.entries(options)) {
    const v = given[k];
    if (o.type === 'boolean') {
      byName[k] = v === true;
      continue;
    }
    if (typeof v !== 'string') {
      if (o.required) throw usageError(`${command} needs --${k}`, `see ods-sd ${command} --help`);
      continue;
    }
    if (o.choices && !o.choices.includes(v)) {
      throw usageError(
        `--${k} must be ${orList(o.choices)}, not ${JSON.stringify(v)}`,
        `see ods-sd ${command} --help`,
      );
    }
    byName[k] = v;
  }
  return byName as OptionValues<O>;
}
