/**
 * One ods-sd command, described once: its positionals and their arity, its options with their help,
 * whether it overwrites a card, what it runs and how its result reads. The usage line, the help,
 * the argument checks and the typed values its run receives all come from that description.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AtlasError } from '../core/errors.js';
import type { JobContext } from '../core/jobs/job.js';
import { DEFAULT_LIBRARY } from '../core/library/library.js';
import type { Env } from '../core/phases/env.js';

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

/** What the command was given. */
export interface Input<P extends readonly PositionalSpec[], O extends OptionSpecs> {
  readonly args: PositionalValues<P>;
  readonly options: OptionValues<O>;
  /** The library (--library, absolute). */
  readonly library: string;
}

export interface RunContext<P extends readonly PositionalSpec[], O extends OptionSpecs> extends Input<P, O> {
  /** Steps, progress, log lines and cancellation (Ctrl-C). */
  readonly job: JobContext;
  /** Where the disk tools run (this host on Linux, the Lima VM on a Mac), with the library. */
  env(): Promise<Env>;
}

export interface CommandSpec<R, P extends readonly PositionalSpec[], O extends OptionSpecs> {
  /** As typed: `flash`, or `vm status` for a subcommand. */
  readonly name: string;
  readonly summary: string;
  readonly positionals: P;
  readonly options: O;
  /** Overwrites a card: the question to confirm, answered by a terminal or --yes. */
  readonly destructive?: (args: PositionalValues<P>) => string;
  /** Runs in the user's terminal (a shell): no --json output, and its exit status is this one. */
  readonly interactive?: (result: R) => number;
  readonly run: (ctx: RunContext<P, O>) => Promise<R>;
  /** The result for a person, on stdout. */
  readonly human: (result: R, input: Input<P, O>) => string;
  /** A result that is still a failure (verify with failed checks): a non-zero exit. */
  readonly failure?: (result: R) => AtlasError | undefined;
}

/** What a finished command prints and returns. */
export interface Outcome {
  /** The result as --json carries it. */
  readonly result: unknown;
  readonly text: string;
  readonly failure: AtlasError | undefined;
  /** An interactive command's own exit status. */
  readonly exitCode: number | undefined;
}

/** A command ready to run: its arguments are checked. */
export interface Invocation {
  readonly kind: 'run';
  /** `flash`, `vm status`: the job's title and --json's `command`. */
  readonly name: string;
  /** The question of a destructive command, unless --yes answered it. */
  readonly confirm: string | undefined;
  readonly verbose: boolean;
  readonly json: boolean;
  /** --library, absolute. */
  readonly library: string;
  run(job: JobContext, env: () => Promise<Env>): Promise<Outcome>;
}

export interface HelpRequest {
  readonly kind: 'help';
  readonly text: string;
}

/** An entry of the command table, its types erased: what the runner and the help need. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Its usage without `ods-sd `: `flash IMAGE CARD [CARD...] [--no-verify] …`. */
  readonly usage: string;
  /** Its positionals and options, for the help. */
  readonly positionals: readonly PositionalSpec[];
  readonly options: OptionSpecs;
  /** The subcommands of a group (vm). */
  readonly subcommands: readonly Command[];
  /** Checks the arguments after the command's name: its help, or what to run. Throws usage errors. */
  prepare(args: string[]): Invocation | HelpRequest;
}

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

function positionalUsage(positionals: readonly PositionalSpec[]): string {
  return positionals
    .map((p) => (p.variadic ? `${p.label} [${p.label}...]` : p.optional ? `[${p.label}]` : p.label))
    .join(' ');
}

function optionUsage(name: string, o: OptionSpec): string {
  if (o.type === 'boolean') return `[--${name}]`;
  const flag = `--${name} ${o.choices ? o.choices.join('|') : o.arg}`;
  return o.required ? flag : `[${flag}]`;
}

function optionFlag(name: string, o: OptionSpec): string {
  return `--${name}${o.type === 'string' ? ` ${o.choices ? o.choices.join('|') : o.arg}` : ''}`;
}

/**
 * `  --no-eject          keep the card attached…`, continuation lines aligned under the text; the
 * text starts `width` after the indent (default: two spaces after the longest flag).
 */
export function optionLines(options: OptionSpecs, width?: number): string[] {
  const flags = Object.entries(options).map(([name, o]) => [optionFlag(name, o), o.help] as const);
  const at = width ?? Math.max(0, ...flags.map(([f]) => f.length)) + 2;
  return flags.flatMap(([flag, help]) => {
    const [first, ...more] = help.split('\n');
    return [`  ${flag.padEnd(at)}${first}`, ...more.map((line) => `  ${''.padEnd(at)}${line}`)];
  });
}

/** Options in parseArgs' own terms. */
function parseArgsOptions(
  options: OptionSpecs,
): Record<string, { type: 'string' | 'boolean'; short?: string }> {
  return Object.fromEntries(
    Object.entries(options).map(([k, o]) => [
      k,
      o.short ? { type: o.type, short: o.short } : { type: o.type },
    ]),
  );
}

function commandHelp(usage: string, summary: string, options: OptionSpecs, destructive: boolean): string {
  const own = Object.keys(options).length ? ['', 'options:', ...optionLines(options)] : [];
  return [
    `usage: ods-sd ${usage}`,
    summary,
    ...own,
    ...(destructive ? ['', 'It asks before writing; without a terminal pass --yes.'] : []),
    '',
    'options for every command: --library DIR, --json, --yes, --verbose (see ods-sd --help)',
  ].join('\n');
}

/**
 * One command of the table, typed from its description: `run` receives its positionals and options
 * with their types, and `human` and `failure` the very result `run` returns.
 */
export function defineCommand<R, const P extends readonly PositionalSpec[], const O extends OptionSpecs>(
  spec: CommandSpec<R, P, O>,
): Command {
  const labels = positionalUsage(spec.positionals);
  const usage = [spec.name, labels, ...Object.entries(spec.options).map(([k, o]) => optionUsage(k, o))]
    .filter(Boolean)
    .join(' ');
  const hint = `usage: ods-sd ${usage}`;
  const min = spec.positionals.filter((p) => !p.optional).length;
  const max = spec.positionals.some((p) => p.variadic) ? Infinity : spec.positionals.length;

  function parse(argv: string[]) {
    try {
      return parseArgs({
        args: argv,
        options: parseArgsOptions({ ...GLOBAL_OPTIONS, ...spec.options }),
        allowPositionals: true,
        strict: true,
      });
    } catch (e) {
      throw usageError(`${spec.name}: ${e instanceof Error ? e.message : String(e)}`, hint);
    }
  }

  function positionalValues(given: string[]): PositionalValues<P> {
    const byName: Record<string, string | string[] | undefined> = {};
    spec.positionals.forEach((p, i) => {
      byName[p.name] = p.variadic ? given.slice(i) : given[i];
    });
    // The arity check above makes every required one a string and every variadic one an array.
    return byName as PositionalValues<P>;
  }

  function optionValues(given: Record<string, string | boolean | undefined>): OptionValues<O> {
    const byName: Record<string, string | boolean | undefined> = {};
    for (const [k, o] of Object.entries(spec.options)) {
      const v = given[k];
      if (o.type === 'boolean') {
        byName[k] = v === true;
        continue;
      }
      if (typeof v !== 'string') {
        if (o.required) throw usageError(`${spec.name} needs --${k}`, `see ods-sd ${spec.name} --help`);
        continue;
      }
      if (o.choices && !o.choices.includes(v)) {
        throw usageError(
          `--${k} must be ${orList(o.choices)}, not ${JSON.stringify(v)}`,
          `see ods-sd ${spec.name} --help`,
        );
      }
      byName[k] = v;
    }
    // Every key checked against its spec above: booleans, required and chosen strings.
    return byName as OptionValues<O>;
  }

  return {
    name: spec.name,
    summary: spec.summary,
    usage,
    positionals: spec.positionals,
    options: spec.options,
    subcommands: [],
    prepare(argv) {
      const { values, positionals } = parse(argv);
      if (values.help === true) {
        return {
          kind: 'help',
          text: commandHelp(usage, spec.summary, spec.options, spec.destructive !== undefined),
        };
      }
      if (positionals.length < min || positionals.length > max) {
        throw usageError(`${spec.name} takes ${labels || 'no arguments'}`, hint);
      }
      const json = values.json === true;
      if (spec.interactive && json) {
        throw usageError(
          `${spec.name} is interactive: it has no --json output`,
          `run ods-sd ${spec.name} in a terminal`,
        );
      }
      const library = resolve(typeof values.library === 'string' ? values.library : DEFAULT_LIBRARY);
      const input: Input<P, O> = {
        args: positionalValues(positionals),
        options: optionValues(values),
        library,
      };
      const interactive = spec.interactive;
      return {
        kind: 'run',
        name: spec.name,
        confirm: spec.destructive && values.yes !== true ? spec.destructive(input.args) : undefined,
        verbose: values.verbose === true,
        json,
        library,
        async run(job, env) {
          const result = await spec.run({ ...input, job, env });
          return {
            result,
            text: interactive ? '' : spec.human(result, input),
            failure: spec.failure?.(result),
            exitCode: interactive?.(result),
          };
        },
      };
    },
  };
}

/** A command of subcommands (`vm setup`, `vm status`…): the first positional picks one. */
export function defineGroup(spec: {
  readonly name: string;
  readonly summary: string;
  readonly subcommands: readonly Command[];
}): Command {
  const word = (c: Command) => c.name.slice(spec.name.length + 1);
  const usage = `${spec.name} ${spec.subcommands.map(word).join('|')}`;
  const hint = `usage: ods-sd ${usage}`;
  const options: OptionSpecs = Object.assign({}, ...spec.subcommands.map((c) => c.options));
  const help = [
    `usage: ods-sd ${usage}`,
    spec.summary,
    '',
    ...spec.subcommands.map((c) => `  ods-sd ${c.usage}\n      ${c.summary}`),
    '',
    `ods-sd ${spec.name} COMMAND --help tells more about one of them.`,
  ].join('\n');
  return {
    name: spec.name,
    summary: spec.summary,
    usage,
    positionals: [{ name: 'command', label: spec.subcommands.map(word).join('|') }],
    options,
    subcommands: spec.subcommands,
    prepare(argv) {
      // Find the subcommand's word among the options of them all, wherever it stands.
      const { tokens } = parseArgs({
        args: argv,
        options: parseArgsOptions({ ...GLOBAL_OPTIONS, ...options }),
        allowPositionals: true,
        strict: false,
        tokens: true,
      });
      const first = tokens.find((t) => t.kind === 'positional');
      const asksHelp = tokens.some((t) => t.kind === 'option' && t.name === 'help');
      const sub = first && spec.subcommands.find((c) => word(c) === first.value);
      if (first?.value === 'help' || (asksHelp && !sub)) return { kind: 'help', text: help };
      if (!first || !sub) {
        throw usageError(
          first ? `unknown ${spec.name} command "${first.value}"` : `${spec.name} needs a command`,
          hint,
        );
      }
      return sub.prepare(argv.filter((_, i) => i !== first.index));
    },
  };
}
