/**
 * The one wrapper around Lima's command line, limactl. Every call is an argv array through
 * runTool; limactl's own logs are requested as JSON (`--log-format=json`) so failures can be
 * reported with Lima's real reason instead of a generic exit code.
 *
 * Lima behaviour relied on (lima-vm/lima, cmd/limactl and pkg/store, read at v2.2):
 *   - `limactl list --json NAME` prints one JSON object per instance and line; an unknown NAME
 *     exits 1 after "No instance matching NAME found." / "unmatched instances".
 *   - `status` is Uninitialized, Installing, Broken, Stopped or Running.
 *   - `limactl start` of a running instance is a no-op; a failed start ends with
 *     "exiting, status=…", the cause being in `<dir>/ha.stderr.log`.
 *   - `limactl stop -f` clears a Broken instance (stale host agent after a reboot).
 *   - `limactl shell` flags go before the instance name; the command's exit code is passed
 *     through, 255 meaning ssh itself failed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AtlasError } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import { runTool, type RunOptions, type RunResult } from '../tools/run-tool.js';
import { lastFailure, lastHostAgentFailure, parseLimaLogLine } from './lima-log.js';
import { checkSocketPathLength, findLimactl, limactlNotFound, limaHome } from './locate.js';
import { startStepOf } from './start-steps.js';

export interface LimaMountConfig {
  location: string;
  mountPoint?: string | null;
  writable?: boolean | null;
}

/** The fields of Lima's store.Instance that Atlas Imager reads (`limactl list --json`). */
export interface LimaInstance {
  name: string;
  status: string;
  dir: string;
  hostname?: string;
  vmType?: string;
  arch?: string;
  cpus?: number;
  memory?: number;
  disk?: number;
  message?: string;
  errors?: string[];
  limaVersion?: string;
  /** `limactl protect`: Lima refuses to delete it. */
  protected?: boolean;
  param?: Record<string, string>;
  config?: { mounts?: LimaMountConfig[]; param?: Record<string, string>; [key: string]: unknown };
}

export type VmState =
  'missing' | 'Uninitialized' | 'Installing' | 'Broken' | 'Stopped' | 'Running' | 'Unknown';

export interface VmStatus {
  state: VmState;
  instance?: LimaInstance;
  /** Why the VM is Broken (Lima's own errors and the host agent's last fatal line). */
  cause?: string;
  /** The last fatal or error line of ha.stderr.log, whatever the state. */
  lastLogError?: string;
}

const STATES: ReadonlySet<string> = new Set(['Uninitialized', 'Installing', 'Broken', 'Stopped', 'Running']);

/** Parses `limactl list --json`: one object per line (a terminal gets it pretty-printed instead). */
export function parseListJson(stdout: string): LimaInstance[] {
  const text = stdout.trim();
  if (text === '') return [];
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  try {
    return lines.map((l) => JSON.parse(l) as LimaInstance);
  } catch {
    try {
      return [JSON.parse(text) as LimaInstance];
    } catch {
      throw new AtlasError(
        'tool-failed',
        `limactl list --json printed something that is not JSON: ${text.slice(0, 200)}`,
      );
    }
  }
}

const INSTANCE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,75}$/;

function checkName(name: string): void {
  if (!INSTANCE_NAME.test(name) || /\.ya?ml$/i.test(name)) {
    throw new AtlasError(
      'bad-input',
      `invalid Lima instance name ${JSON.stringify(name)}`,
      'use letters, digits, dots, dashes and underscores',
    );
  }
}

/** The failure reason in a limactl run's stderr: its last fatal/error log line, else the tail. */
function stderrCause(r: RunResult): string {
  return (
    lastFailure(r.stderr.split('\n')) ??
    (r.stderr.trim().split('\n').slice(-3).join(' ') || `exit ${r.exitCode}`)
  );
}

export interface ShellOptions {
  /** The guest directory to run in; Lima otherwise tries the host's cwd and prints noise. */
  workdir: string;
  input?: string;
  signal?: AbortSignal;
  onStdoutLine?: RunOptions['onStdoutLine'];
  onStderrLine?: RunOptions['onStderrLine'];
}

export class Limactl {
  constructor(readonly path: string) {}

  /** The limactl of this machine, or undefined when Lima is not installed. */
  static find(env: NodeJS.ProcessEnv = process.env): Limactl | undefined {
    const path = findLimactl(env);
    return path ? new Limactl(path) : undefined;
  }

  /** The limactl of this machine; fails with the way to install Lima. */
  static locate(env: NodeJS.ProcessEnv = process.env): Limactl {
    const found = Limactl.find(env);
    if (!found) throw limactlNotFound(env);
    return found;
  }

  private run(args: string[], options: RunOptions = {}): Promise<RunResult> {
    return runTool(this.path, args, options);
  }

  /** Lima's version, e.g. "2.2.0" (`limactl --version` prints "limactl version 2.2.0"). */
  async version(): Promise<string> {
    const r = await this.run(['--version']);
    const m = /version\s+v?(\S+)/.exec(r.stdout);
    if (r.exitCode !== 0 || !m) {
      throw new AtlasError(
        'tool-failed',
        `${this.path} --version failed: ${stderrCause(r)}`,
        'reinstall Lima (brew reinstall lima)',
      );
    }
    return m[1]!;
  }

  /** All instances, or the one named (an empty list when it does not exist). */
  async list(name?: string): Promise<LimaInstance[]> {
    if (name !== undefined) checkName(name);
    const r = await this.run(['list', '--json', '--log-format=json', ...(name === undefined ? [] : [name])]);
    if (r.exitCode === 1 && name !== undefined && /No instance matching|unmatched instances/.test(r.stderr)) {
      return [];
    }
    if (r.exitCode !== 0) {
      throw new AtlasError('tool-failed', `limactl list failed: ${stderrCause(r)}`, undefined, {
        next: [{ do: 'vm-doctor' }],
      });
    }
    return parseListJson(r.stdout);
  }

  async inspect(name: string): Promise<LimaInstance | undefined> {
    return (await this.list(name)).find((i) => i.name === name);
  }

  async status(name: string): Promise<VmStatus> {
    const instance = await this.inspect(name);
    if (!instance) return { state: 'missing' };
    const state: VmState = STATES.has(instance.status) ? (instance.status as VmState) : 'Unknown';
    const lastLogError = instance.dir ? await lastHostAgentFailure(instance.dir) : undefined;
    const out: VmStatus = { state, instance };
    if (lastLogError) out.lastLogError = lastLogError;
    if (state === 'Broken' || state === 'Unknown') {
      const parts = [...(instance.errors ?? []), ...(lastLogError ? [lastLogError] : [])];
      out.cause = parts.join('; ') || 'Lima gave no reason';
    }
    return out;
  }

  /**
   * `limactl create --name=NAME --tty=false [--set .param.WORKDIR="…"] FILE`: the template
   * declares `param: WORKDIR`, the folder shared read-write with the VM.
   */
  async create(name: string, templatePath: string, options: { workdir?: string } = {}): Promise<void> {
    checkName(name);
    checkSocketPathLength(limaHome(), name);
    if (!existsSync(templatePath)) {
      throw new AtlasError('not-found', `no Lima template at ${templatePath}`, 'reinstall Atlas Imager');
    }
    const args = ['create', `--name=${name}`, '--tty=false', '--log-format=json'];
    if (options.workdir !== undefined) {
      const w = options.workdir;
      // A yq string literal: refuse what would need escaping rather than trust the escaping.
      // eslint-disable-next-line no-control-regex
      if (!w.startsWith('/') || /["\\\u0000-\u001f]/.test(w)) {
        throw new AtlasError(
          'bad-input',
          `the work folder ${JSON.stringify(w)} cannot be shared with the VM`,
          'use an absolute path without quotes or backslashes',
        );
      }
      args.push('--set', `.param.WORKDIR = "${w}"`);
    }
    args.push(templatePath);
    const r = await this.run(args);
    if (r.exitCode !== 0) {
      throw new AtlasError(
        'tool-failed',
        `limactl could not create the ${name} VM: ${stderrCause(r)}`,
        undefined,
        { next: [{ do: 'vm-doctor' }] },
      );
    }
  }

  /**
   * Starts the VM (a no-op when it runs), streaming Lima's progress into the job: each line that
   * begins a named step (start-steps.ts) starts that step, every line goes to the log. The
   * step before the first such line is the caller's (`currentStep`, not begun again).
   */
  async start(name: string, ctx: JobContext, currentStep?: string): Promise<void> {
    checkName(name);
    let current = currentStep;
    const r = await this.run(['start', '--tty=false', '--log-format=json', name], {
      signal: ctx.signal,
      onStderrLine: (line) => {
        const l = parseLimaLogLine(line);
        const step = l ? startStepOf(l.msg) : undefined;
        if (step && step.id !== current) {
          current = step.id;
          ctx.step(step.id, step.label);
        }
        ctx.log(l ? (l.level === 'info' ? l.msg : `${l.level}: ${l.msg}`) : line);
      },
    });
    if (r.exitCode === 0) return;
    const dir = join(limaHome(), name);
    const cause = (await lastHostAgentFailure(dir)) ?? stderrCause(r);
    throw new AtlasError(
      'tool-failed',
      `the ${name} VM did not start: ${cause}`,
      `Lima's log is ${join(dir, 'ha.stderr.log')}`,
      { next: [{ do: 'vm-doctor' }, { do: 'vm-start' }] },
    );
  }

  /** Stops the VM; a stopped VM is left alone unless `force` (which also clears Broken). */
  async stop(name: string, options: { force?: boolean } = {}): Promise<void> {
    const s = await this.status(name);
    if (s.state === 'missing') throw vmMissing(name);
    if (s.state === 'Stopped' && !options.force) return;
    await this.stopOrDelete('stop', name, options, `force it with: limactl stop -f ${name}`);
  }

  async delete(name: string, options: { force?: boolean } = {}): Promise<void> {
    checkName(name);
    await this.stopOrDelete('delete', name, options, `stop it first: limactl stop -f ${name}`);
  }

  /** Runs `limactl stop|delete [--force] NAME`; a failure carries Lima's reason and `hint`. */
  private async stopOrDelete(
    verb: 'stop' | 'delete',
    name: string,
    options: { force?: boolean },
    hint: string,
  ): Promise<void> {
    const r = await this.run([
      verb,
      ...(options.force ? ['--force'] : []),
      '--tty=false',
      '--log-format=json',
      name,
    ]);
    if (r.exitCode !== 0) {
      throw new AtlasError(
        'tool-failed',
        `limactl could not ${verb} the ${name} VM: ${stderrCause(r)}`,
        hint,
      );
    }
  }

  /** A Broken VM (typically after the Mac rebooted under it): `stop -f`, then start. */
  async recover(name: string, ctx: JobContext, currentStep?: string): Promise<void> {
    ctx.log(`the ${name} VM is broken: stopping it forcibly (limactl stop -f) before starting it`);
    await this.stop(name, { force: true });
    await this.start(name, ctx, currentStep);
  }

  /** argv (after limactl) to run `command` in the VM, every value its own element. */
  shellArgs(name: string, command: readonly string[], workdir: string): string[] {
    checkName(name);
    return ['shell', `--workdir=${workdir}`, '--tty=false', name, '--', ...command];
  }

  /** argv (after limactl) for an interactive shell in a terminal. */
  interactiveShellArgs(name: string, workdir?: string): string[] {
    checkName(name);
    return ['shell', ...(workdir ? [`--workdir=${workdir}`] : []), name];
  }

  /**
   * Shares `folder` with a stopped VM, writable at the same path, as the work folder (param WORKDIR):
   * `limactl edit --set`, as our template would have set it up. Lima sets shared folders up when a VM
   * starts, so the VM must be stopped.
   */
  async addWorkMount(name: string, folder: string): Promise<void> {
    checkName(name);
    // A yq string literal: refuse what would need escaping rather than trust the escaping.
    // eslint-disable-next-line no-control-regex
    if (!folder.startsWith('/') || /["\\\u0000-\u001f]/.test(folder)) {
      throw new AtlasError(
        'bad-input',
        `the work folder ${JSON.stringify(folder)} cannot be shared with the VM`,
      );
    }
    const r = await this.run([
      'edit',
      '--tty=false',
      '--log-format=json',
      '--set',
      `.mounts += [{"location": "${folder}", "mountPoint": "${folder}", "writable": true}] | .param.WORKDIR = "${folder}"`,
      name,
    ]);
    if (r.exitCode !== 0) {
      throw new AtlasError(
        'tool-failed',
        `limactl could not share ${folder} with the ${name} VM: ${stderrCause(r)}`,
      );
    }
  }

  /** Runs a command in the VM; the exit code is the command's (255: ssh failed). */
  shell(name: string, command: readonly string[], options: ShellOptions): Promise<RunResult> {
    const run: RunOptions = {};
    if (options.input !== undefined) run.input = options.input;
    if (options.signal) run.signal = options.signal;
    if (options.onStdoutLine) run.onStdoutLine = options.onStdoutLine;
    if (options.onStderrLine) run.onStderrLine = options.onStderrLine;
    return this.run(this.shellArgs(name, command, options.workdir), run);
  }
}

export function vmMissing(name: string): AtlasError {
  return new AtlasError('not-found', `the ${name} VM does not exist`, undefined, {
    next: [{ do: 'vm-setup' }],
  });
}

/** The error for a VM that cannot run a command now, with what to do about it. */
export function vmNotRunning(name: string, s: VmStatus): AtlasError {
  switch (s.state) {
    case 'missing':
      return vmMissing(name);
    case 'Stopped':
      return new AtlasError('tool-failed', `the ${name} VM is stopped`, undefined, {
        next: [{ do: 'vm-start' }],
      });
    case 'Broken':
      return new AtlasError(
        'tool-failed',
        `the ${name} VM is broken: ${s.cause ?? 'Lima gave no reason'}`,
        undefined,
        { next: [{ do: 'vm-start' }, { do: 'vm-doctor' }] },
      );
    case 'Uninitialized':
    case 'Installing':
      return new AtlasError(
        'tool-failed',
        `the ${name} VM is still being set up (${s.state})`,
        'wait for the VM setup to finish, then try again',
      );
    default:
      return new AtlasError(
        'tool-failed',
        `the ${name} VM is in an unknown state: ${s.cause ?? s.instance?.status ?? '?'}`,
        undefined,
        { next: [{ do: 'vm-doctor' }] },
      );
  }
}
