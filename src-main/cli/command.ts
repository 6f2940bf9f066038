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
import {
  GLOBAL_OPTIONS,
  optionValues,
  parseArgsOptions,
  positionalValues,
  type OptionSpecs,
  type OptionValues,
  type PositionalSpec,
  type PositionalValues,
} from './arguments.js';
import { commandHelp, positionalUsage, usageLine } from './usage.js';

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
  /**
   * The same command as the user's own tools/ods-sd writes it, accepted too (`insert BASE OUT`):
   * the help shows it beside ours, so it is clear which form is which.
   */
  readonly odsSdForm?: string;
  readonly positionals: P;
  readonly options: O;
  /** Overwrites a card: the question to confirm, answered by a terminal or --yes. */
  readonly destructive?: (args: PositionalValues<P>) => string;
  /** What the destructive command would do, shown before its question (and alone without --yes). */
  readonly preview?: (input: Input<P, O>) => Promise<Preview<O>>;
  /** The answer when the question is declined (default: "nothing was written"). */
  readonly declined?: string;
  /** What the command would refuse (a wrong image, a card it must not write), found before asking. */
  readonly preflight?: (input: Input<P, O>) => Promise<void>;
  /** Runs in the user's terminal (a shell): no --json output, and its exit status is this one. */
  readonly interactive?: (result: R) => number;
  readonly run: (ctx: RunContext<P, O>) => Promise<R>;
  /** The result for a person, on stdout. */
  readonly human: (result: R, input: Input<P, O>) => string;
  /** A result that is still a failure (verify with failed checks): a non-zero exit. */
  readonly failure?: (result: R) => AtlasError | undefined;
  /** The result as --json carries it, when it has advice to word as the CLI's (default: as it is). */
  readonly json?: (result: R) => unknown;
}

/**
 * What a destructive command would do, found before it asks (the VM recreate deletes: its name,
 * disk and the secrets inside it). Without a confirmation it is all the command says.
 */
export interface Preview<O extends OptionSpecs> {
  /** For a person. */
  readonly text: string;
  /** As --json carries it, beside the error that says it was not confirmed. */
  readonly result: unknown;
  /** A question the terminal asks before the confirmation, and the options each answer sets. */
  readonly choice?: {
    readonly question: string;
    readonly yes: Partial<OptionValues<O>>;
    readonly no: Partial<OptionValues<O>>;
  };
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
  /** Refuses what the run would refuse before it writes anything; called before the question. */
  check(): Promise<void>;
  /** What it would do, to show before the question (a destructive command's preview). */
  preview(): Promise<Preview<OptionSpecs> | undefined>;
  /** Options the terminal's answer to the preview's choice sets. */
  answer(options: Readonly<Record<string, unknown>>): void;
  /** What is said when the question is declined. */
  readonly declined: string;
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
  /** The form tools/ods-sd writes it in, when that is accepted too. */
  readonly odsSdForm?: string;
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

/**
 * One command of the table, typed from its description: `run` receives its positionals and options
 * with their types, and `human` and `failure` the very result `run` returns.
 */
export function defineCommand<R, const P extends readonly PositionalSpec[], const O extends OptionSpecs>(
  spec: CommandSpec<R, P, O>,
): Command {
  const labels = positionalUsage(spec.positionals);
  const usage = usageLine(spec.name, spec.positionals, spec.options);
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
      throw new AtlasError('usage', `${spec.name}: ${e instanceof Error ? e.message : String(e)}`, hint);
    }
  }

  return {
    name: spec.name,
    summary: spec.summary,
    ...(spec.odsSdForm ? { odsSdForm: spec.odsSdForm } : {}),
    usage,
    positionals: spec.positionals,
    options: spec.options,
    subcommands: [],
    prepare(argv) {
      const { values, positionals } = parse(argv);
      if (values.help === true) {
        return {
          kind: 'help',
          text: commandHelp(
            usage,
            spec.summary,
            spec.options,
            spec.destructive !== undefined,
            spec.odsSdForm,
          ),
        };
      }
      if (positionals.length < min || positionals.length > max) {
        throw new AtlasError('usage', `${spec.name} takes ${labels || 'no arguments'}`, hint);
      }
      const json = values.json === true;
      if (spec.interactive && json) {
        throw new AtlasError(
          'usage',
          `${spec.name} is interactive: it has no --json output`,
          `run ods-sd ${spec.name} in a terminal`,
        );
      }
      const library = resolve(typeof values.library === 'string' ? values.library : DEFAULT_LIBRARY);
      const input: Input<P, O> = {
        args: positionalValues(spec.positionals, positionals),
        options: optionValues(spec.name, spec.options, values),
        library,
      };
      const interactive = spec.interactive;
      let answered: Readonly<Record<string, unknown>> = {};
      return {
        kind: 'run',
        name: spec.name,
        confirm: spec.destructive && values.yes !== true ? spec.destructive(input.args) : undefined,
        verbose: values.verbose === true,
        json,
        library,
        check: async () => spec.preflight?.(input),
        preview: async () =>
          spec.preview ? (spec.preview(input) as Promise<Preview<OptionSpecs>>) : undefined,
        answer: (options) => {
          answered = { ...answered, ...options };
        },
        declined: spec.declined ?? 'not confirmed: nothing was written',
        async run(job, env) {
          const options = { ...input.options, ...answered } as OptionValues<O>;
          const result = await spec.run({ ...input, options, job, env });
          return {
            result: spec.json ? spec.json(result) : result,
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
        throw new AtlasError(
          'usage',
          first ? `unknown ${spec.name} command "${first.value}"` : `${spec.name} needs a command`,
          hint,
        );
      }
      return sub.prepare(argv.filter((_, i) => i !== first.index));
    },
  };
}
