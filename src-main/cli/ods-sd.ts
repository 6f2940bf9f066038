/**
 * ods-sd: every phase of the ODS Atlas image workflow from one command line, one entry of the
 * command table (commands.ts) per command.
 * Exit codes: 0 success, 2 usage or input error, 1 any other failure. With --json the result is
 * one JSON object on stdout's last line; progress always goes to stderr.
 */
import { createInterface } from 'node:readline/promises';
import { AtlasError, toAtlasError } from '../core/errors.js';
import { startJob } from '../core/jobs/job.js';
import type { Env } from '../core/phases/env.js';
import { selectBuilder } from '../core/lima/select-builder.js';
import type { Invocation } from './command.js';
import { COMMANDS, findCommand } from './commands.js';
import { generalHelp } from './help.js';
import { printError, printSuccess } from './output.js';
import { progressPrinter } from './progress-printer.js';
import { cancelOnSignals } from './signals.js';

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question}\nType "yes" to continue: `);
    return answer.trim().toLowerCase() === 'yes';
  } finally {
    rl.close();
  }
}

/** The builder for `library`, chosen once, when the command first asks for it. */
function builderOnce(library: string): () => Promise<Env> {
  let env: Promise<Env> | undefined;
  return () => (env ??= selectBuilder(library).then((builder) => ({ builder, library })));
}

/** Runs a checked command as a job: progress on stderr, Ctrl-C cancels it, a second one ends ods-sd. */
async function run(inv: Invocation): Promise<number> {
  const job = startJob(`ods-sd ${inv.name}`, (ctx) => inv.run(ctx, builderOnce(inv.library)));
  job.on('event', progressPrinter(process.stderr, inv.verbose));
  const stopListening = cancelOnSignals({
    cancel: () => job.cancel(),
    exit: (status) => process.exit(status),
    say: (text) => process.stderr.write(text),
  });
  try {
    const outcome = await job.promise;
    if (outcome.exitCode !== undefined) return outcome.exitCode;
    if (outcome.text) process.stdout.write(`${outcome.text}\n`);
    if (outcome.failure) return printError(outcome.failure, inv.json, outcome.result);
    return printSuccess(inv.name, outcome.result, inv.json);
  } catch (e) {
    return printError(toAtlasError(e), inv.json);
  } finally {
    stopListening();
  }
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const json = argv.includes('--json');
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${generalHelp(COMMANDS)}\n`);
    return name ? 0 : 2;
  }
  const command = findCommand(name);
  if (!command)
    return printError(new AtlasError('usage', `unknown command "${name}"`, 'run ods-sd --help'), json);

  let step;
  try {
    step = command.prepare(rest);
  } catch (e) {
    return printError(toAtlasError(e), json);
  }
  if (step.kind === 'help') {
    process.stdout.write(`${step.text}\n`);
    return 0;
  }
  try {
    await step.check();
  } catch (e) {
    return printError(toAtlasError(e), json);
  }
  if (step.confirm !== undefined) {
    let preview;
    try {
      preview = await step.preview();
    } catch (e) {
      return printError(toAtlasError(e), json);
    }
    if (!process.stdin.isTTY) {
      if (preview && !json) process.stdout.write(`${preview.text}\n`);
      return printError(
        new AtlasError('usage', `${step.confirm}; confirm with --yes`, 'no terminal to ask: pass --yes'),
        json,
        preview?.result,
      );
    }
    if (preview) process.stderr.write(`${preview.text}\n`);
    if (preview?.choice) {
      step.answer((await confirm(preview.choice.question)) ? preview.choice.yes : preview.choice.no);
    }
    if (!(await confirm(step.confirm))) return printError(new AtlasError('usage', step.declined), json);
  }
  return run(step);
}
