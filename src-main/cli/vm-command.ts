/**
 * `ods-sd vm setup|start|stop|status|shell|doctor`: the atlas-build Lima VM that runs the disk
 * tools on a Mac. Same contract as the other commands: human output on stdout, progress on
 * stderr, with --json one JSON object on stdout's last line; exit 0 success, 2 usage or input
 * error, 1 anything else (a doctor check that fails included).
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AtlasError, toAtlasError } from '../core/errors.js';
import { startJob, type JobContext } from '../core/jobs/job.js';
import { DEFAULT_LIBRARY } from '../core/library/library.js';
import { runDoctor, type DoctorReport } from '../core/lima/doctor.js';
import { Limactl } from '../core/lima/limactl.js';
import { vmSetup, vmShellArgs, vmStart, vmStatus, vmStop, type VmInfo } from '../core/lima/vm.js';
import { bytes } from './format.js';
import { progressPrinter } from './progress-printer.js';
import { cliErrorJson, cliErrorText, cliHint } from './next-steps.js';

export const VM_USAGE = 'vm setup|start|stop|status|shell|doctor [--library DIR] [--force]';

const SUBCOMMANDS: Record<string, string> = {
  setup: 'create the atlas-build VM (sharing the library read-write) and start it',
  start: 'start the VM (a broken VM is stopped forcibly first)',
  stop: 'stop the VM (--force for a VM that does not stop)',
  status: 'the state of the VM and the folders it shares',
  shell: 'a shell in the VM, in the library folder',
  doctor: 'check Lima, the VM, its tools, the shared folder, free space and card access',
};

function help(): string {
  return [
    `usage: ods-sd ${VM_USAGE}`,
    '',
    ...Object.entries(SUBCOMMANDS).map(([k, v]) => `  ods-sd vm ${k.padEnd(7)} ${v}`),
  ].join('\n');
}

function statusText(i: VmInfo): string {
  const hw = [
    i.vmType,
    i.arch,
    i.cpus ? `${i.cpus} CPUs` : undefined,
    i.memoryBytes ? `${bytes(i.memoryBytes)} memory` : undefined,
    i.diskBytes ? `${bytes(i.diskBytes)} disk` : undefined,
  ].filter(Boolean);
  const lines = [
    `${i.name}: ${i.state === 'missing' ? 'not created' : i.state}${hw.length ? ` (${hw.join(', ')})` : ''}`,
  ];
  for (const f of i.sharedFolders) {
    lines.push(`  shares ${f.host} as ${f.guest} (${f.writable ? 'read-write' : 'read-only'})`);
  }
  if (i.cause) lines.push(`  cause: ${i.cause}`);
  else if (i.lastLogError) lines.push(`  last error in ha.stderr.log: ${i.lastLogError}`);
  if (i.state === 'missing') lines.push('  create it with: ods-sd vm setup');
  if (i.state === 'Stopped') lines.push('  start it with: ods-sd vm start');
  return lines.join('\n');
}

function doctorText(r: DoctorReport): string {
  const lines = r.checks.map((c) => {
    const mark = c.ok ? '✅' : c.skipped ? '⏭️ ' : '❌';
    const fix = cliHint({ hint: c.fix, next: c.next });
    return `${mark} ${c.title}: ${c.detail}${!c.ok && fix ? `\n     fix: ${fix}` : ''}`;
  });
  const failed = r.checks.filter((c) => !c.ok).length;
  lines.push(failed === 0 ? 'Everything is ready.' : `${failed} of ${r.checks.length} checks did not pass.`);
  return lines.join('\n');
}

/** Runs `work` as a job with progress on stderr and Ctrl-C cancelling it. */
async function asJob<T>(title: string, verbose: boolean, work: (ctx: JobContext) => Promise<T>): Promise<T> {
  const job = startJob(title, work);
  job.on('event', progressPrinter(process.stderr, verbose));
  const onSignal = () => job.cancel();
  process.once('SIGINT', onSignal);
  try {
    return await job.promise;
  } finally {
    process.off('SIGINT', onSignal);
  }
}

/** An interactive terminal in the VM: the user's terminal is limactl's own stdio. */
function interactive(command: string, args: string[]): Promise<number> {
  return new Promise((done, reject) => {
    const child = spawn(command, args, { stdio: 'inherit' });
    child.on('error', reject);
    child.on('close', (code) => done(code ?? 1));
  });
}

export async function runVmCommand(argv: string[], out: { json: boolean }): Promise<number> {
  const emitError = (err: AtlasError, result?: unknown): number => {
    if (out.json) {
      const body =
        result === undefined
          ? { ok: false, error: cliErrorJson(err.toJSON()) }
          : { ok: false, error: cliErrorJson(err.toJSON()), result };
      process.stdout.write(`${JSON.stringify(body)}\n`);
    }
    process.stderr.write(cliErrorText(err));
    return err.exitCode;
  };

  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        library: { type: 'string' },
        force: { type: 'boolean' },
        json: { type: 'boolean' },
        yes: { type: 'boolean' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    return emitError(new AtlasError('usage', (e as Error).message, `usage: ods-sd ${VM_USAGE}`));
  }
  const { values, positionals } = parsed;
  const [sub, ...extra] = positionals;
  if (values.help || sub === 'help') {
    process.stdout.write(`${help()}\n`);
    return 0;
  }
  if (!sub || !(sub in SUBCOMMANDS) || extra.length > 0) {
    return emitError(
      new AtlasError(
        'usage',
        sub ? `unknown vm command "${[sub, ...extra].join(' ')}"` : 'vm needs a command',
        `usage: ods-sd ${VM_USAGE}`,
      ),
    );
  }
  if (sub === 'shell' && out.json) {
    return emitError(
      new AtlasError(
        'usage',
        'vm shell is interactive: it has no --json output',
        'run ods-sd vm shell in a terminal',
      ),
    );
  }
  const library = resolve(values.library ?? DEFAULT_LIBRARY);
  const verbose = values.verbose === true;

  let result: unknown;
  let human: string;
  try {
    if (sub === 'doctor') {
      const report = await asJob('ods-sd vm doctor', verbose, (ctx) => runDoctor({ library }, ctx));
      process.stdout.write(`${doctorText(report)}\n`);
      const failed = report.checks.filter((c) => !c.ok).length;
      if (failed > 0) {
        const err = new AtlasError(
          'checklist-failed',
          `${failed} of ${report.checks.length} checks did not pass`,
          'follow the fix of each failed check',
        );
        return emitError(err, report);
      }
      result = report;
      human = '';
    } else {
      const lima = Limactl.locate();
      switch (sub) {
        case 'setup': {
          const r = await asJob('ods-sd vm setup', verbose, (ctx) => vmSetup(lima, { library }, ctx));
          const what = r.created
            ? 'Created and started.'
            : r.started
              ? 'Started.'
              : 'Already set up and running.';
          human = `${statusText(r)}\n${what}`;
          if (!r.libraryInVm) {
            human += `\nwarning: the VM does not share ${library} read-write: use a --library inside its work folder`;
          }
          result = r;
          break;
        }
        case 'start': {
          const r = await asJob('ods-sd vm start', verbose, (ctx) => vmStart(lima, ctx, { library }));
          const what = r.recovered
            ? 'It was broken: stopped forcibly and started again.'
            : r.started
              ? 'Started.'
              : 'It was running already.';
          human = `${statusText(r)}\n${what}`;
          result = r;
          break;
        }
        case 'stop': {
          const r = await vmStop(lima, { force: values.force === true });
          human = `${statusText(r)}\n${r.stopped ? 'Stopped.' : 'It was stopped already.'}`;
          result = r;
          break;
        }
        case 'status': {
          const r = await vmStatus(lima, { library });
          human = statusText(r);
          result = r;
          break;
        }
        default: {
          const info = await vmStatus(lima, { library });
          if (info.state !== 'Running') {
            const missing = info.state === 'missing';
            throw new AtlasError(
              'tool-failed',
              `the ${info.name} VM is ${missing ? 'not created' : info.state}`,
              missing ? 'create it with: ods-sd vm setup' : 'start it with: ods-sd vm start',
            );
          }
          const { command, args } = vmShellArgs(lima, info);
          return await interactive(command, args);
        }
      }
    }
  } catch (e) {
    return emitError(toAtlasError(e));
  }
  if (human) process.stdout.write(`${human}\n`);
  if (out.json) process.stdout.write(`${JSON.stringify({ ok: true, command: `vm ${sub}`, result })}\n`);
  return 0;
}
