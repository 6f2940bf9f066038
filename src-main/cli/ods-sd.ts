/**
 * ods-sd: every phase of the ODS Atlas image workflow from one command line.
 * Exit codes: 0 success, 2 usage or input error, 1 any other failure. With --json the result is
 * one JSON object on stdout's last line; progress always goes to stderr.
 */
import { createInterface } from 'node:readline/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AtlasError, toAtlasError } from '../core/errors.js';
import { startJob } from '../core/jobs/job.js';
import { DEFAULT_LIBRARY } from '../core/library/library.js';
import { selectBuilder } from '../core/lima/select-builder.js';
import { COMMANDS } from './commands.js';
import { progressPrinter } from './progress-printer.js';
import { runVmCommand, VM_USAGE } from './vm-command.js';
import { cliErrorJson, cliErrorText } from './next-steps.js';

const GLOBAL = {
  library: { type: 'string' as const },
  json: { type: 'boolean' as const },
  yes: { type: 'boolean' as const },
  verbose: { type: 'boolean' as const },
  help: { type: 'boolean' as const, short: 'h' },
};

function help(): string {
  const lines = Object.entries(COMMANDS).map(([, c]) => `  ods-sd ${c.usage}\n      ${c.summary}`);
  return [
    'usage: ods-sd COMMAND [options]',
    '',
    'A CARD is a block device (/dev/sdc, /dev/diskN) or an image file standing in for one.',
    '',
    ...lines,
    `  ods-sd ${VM_USAGE}`,
    '',
    'options for every command:',
    '  --library DIR   the work directory with images and clone sets (default ~/atlas-build)',
    '  --json          print the result as one JSON object on the last line of stdout',
    '  --yes           answer yes to confirmations (needed without a terminal)',
    "  --verbose       show the tools' own output",
    '',
    'options of flash, restore and erase:',
    '  --allow-large-disk  write a disk larger than 256 GB (no SD card is) or one macOS calls internal;',
    '                      without it such a disk is refused, even with --yes',
    '  --no-eject          keep the card attached after writing (default: flushed and ejected)',
    '',
    'A disk that holds the running system, the library or the image is never written; mounted',
    'file systems of the card are unmounted first, and if that fails nothing is written.',
  ].join('\n');
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question}\nType "yes" to continue: `);
    return answer.trim().toLowerCase() === 'yes';
  } finally {
    rl.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const json = argv.includes('--json');
  const emitError = (err: AtlasError): number => {
    if (json) {
      process.stdout.write(`${JSON.stringify({ ok: false, error: cliErrorJson(err.toJSON()) })}\n`);
    }
    process.stderr.write(cliErrorText(err));
    return err.exitCode;
  };
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${help()}\n`);
    return name ? 0 : 2;
  }
  if (name === 'vm') return runVmCommand(rest, { json });
  const command = COMMANDS[name];
  if (!command) return emitError(new AtlasError('usage', `unknown command "${name}"`, 'run ods-sd --help'));

  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...GLOBAL, ...command.options },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    return emitError(new AtlasError('usage', (e as Error).message, `usage: ods-sd ${command.usage}`));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`usage: ods-sd ${command.usage}\n${command.summary}\n`);
    return 0;
  }
  const arity = command.variadic
    ? positionals.length >= command.positionals.length
    : positionals.length === command.positionals.length;
  if (!arity) {
    return emitError(
      new AtlasError(
        'usage',
        `${name} takes ${command.positionals.join(' ') || 'no arguments'}`,
        `usage: ods-sd ${command.usage}`,
      ),
    );
  }
  if (command.destructive && !values.yes) {
    const question = command.destructive(positionals);
    if (!process.stdin.isTTY) {
      return emitError(
        new AtlasError('usage', `${question}; confirm with --yes`, 'no terminal to ask: pass --yes'),
      );
    }
    if (!(await confirm(question)))
      return emitError(new AtlasError('usage', 'not confirmed: nothing was written'));
  }

  let env;
  try {
    const library = resolve(typeof values.library === 'string' ? values.library : DEFAULT_LIBRARY);
    env = { builder: await selectBuilder(library), library };
  } catch (e) {
    return emitError(toAtlasError(e));
  }
  const job = startJob(`ods-sd ${name}`, (ctx) =>
    command.run(env, positionals, values as Record<string, string | boolean | undefined>, ctx),
  );
  job.on('event', progressPrinter(process.stderr, values.verbose === true));
  const onSignal = () => {
    process.stderr.write('\ncancelling…\n');
    job.cancel();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await job.promise;
    const failure = command.failure?.(result);
    process.stdout.write(`${command.human(result)}\n`);
    if (failure) {
      if (json)
        process.stdout.write(
          `${JSON.stringify({ ok: false, error: cliErrorJson(failure.toJSON()), result })}\n`,
        );
      process.stderr.write(cliErrorText(failure));
      return failure.exitCode;
    }
    if (json) process.stdout.write(`${JSON.stringify({ ok: true, command: name, result })}\n`);
    return 0;
  } catch (e) {
    return emitError(toAtlasError(e));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
