/**
 * The builder on a Mac: the atlas-build Lima VM. The builder scripts run there as root through
 * `limactl shell`, with every host path translated into the path the VM sees it under (through
 * the VM's shared folders). The VM cannot open the Mac's card reader, so the host side reads and
 * writes cards; every hand-over is a file in the shared work dir (the VM's writable mount).
 */
import type { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AtlasError } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import { SCRIPTS_DIR } from '../paths.js';
import type {
  AttachedCard,
  AttachOptions,
  Builder,
  BuilderScript,
  ScriptOutcome,
} from '../builder/builder.js';
import type { RawCard } from '../card-io/card-reads.js';
import {
  attachInGuest,
  forcedStaged,
  parseProbe,
  type BlockDeviceSupport,
  type GuestSessionHost,
} from './guest-block-device.js';
import { runScriptProcess } from '../builder/script-runner.js';
import type { RunResult } from '../tools/run-tool.js';
import { Limactl, vmNotRunning, type LimaInstance, type VmStatus } from './limactl.js';
import { limactlNotFound } from './locate.js';
import { sharedFolders, toGuestPath, type SharedFolder } from './shared-folders.js';
import { stageScripts } from './stage-scripts.js';

export const VM_NAME = 'atlas-build';
/** Where stageSecrets puts atlas_secrets.conf inside the VM (root only, see atlas-build.yaml). */
export const GUEST_SECRETS_PATH = '/var/lib/atlas-build/atlas_secrets.conf';
/** Per-run pid files (read by the host to cancel a script in the VM), in the shared work dir. */
const RUN_DIR = '.atlas-run';
const SCRIPT_NAME = /^[a-z][a-z0-9_]*\.sh$/;

export interface LimaBuilderOptions {
  /** limactl to use; undefined when Lima is not installed (every use then says how to install it). */
  limactl?: Limactl | undefined;
  instance?: string;
  scriptsDir?: string;
  /**
   * The host folder used for hand-overs (staged scripts, pid files): must be inside a writable
   * shared folder. Default: the VM's first writable shared folder.
   */
  workDir?: string;
  /** Seconds between SIGTERM and SIGKILL when a script in the VM is cancelled. */
  killGraceSeconds?: number;
}

export class LimaBuilder implements Builder {
  readonly kind = 'lima' as const;
  readonly seesHostDevices = false;
  readonly instance: string;
  private readonly scriptsDir: string;
  private readonly killGraceSeconds: number;
  private folders: SharedFolder[] = [];
  private last: VmStatus = { state: 'missing' };
  private blockDevices: (BlockDeviceSupport & { bootId: string }) | undefined;

  private constructor(
    readonly limactl: Limactl | undefined,
    private readonly options: LimaBuilderOptions,
  ) {
    this.instance = options.instance ?? VM_NAME;
    this.scriptsDir = options.scriptsDir ?? SCRIPTS_DIR;
    this.killGraceSeconds = options.killGraceSeconds ?? 10;
  }

  /**
   * A builder for the VM, with its shared folders read from Lima. Never fails because the VM is
   * missing or stopped (a command that needs no builder must still work): the first use does.
   */
  static async connect(options: LimaBuilderOptions = {}): Promise<LimaBuilder> {
    const b = new LimaBuilder('limactl' in options ? options.limactl : Limactl.find(), options);
    await b.refresh().catch(() => undefined);
    return b;
  }

  /** Reads the VM's state and shared folders again. */
  async refresh(): Promise<VmStatus> {
    const lima = this.requireLimactl();
    this.last = await lima.status(this.instance);
    if (this.last.instance) this.folders = sharedFolders(this.last.instance);
    return this.last;
  }

  get status(): VmStatus {
    return this.last;
  }

  get vm(): LimaInstance | undefined {
    return this.last.instance;
  }

  get sharedFolders(): readonly SharedFolder[] {
    return this.folders;
  }

  describe(): string {
    const i = this.last.instance;
    const what = [i?.vmType, i?.arch].filter(Boolean).join(', ');
    return `the ${this.instance} Lima VM${what ? ` (${what})` : ''}`;
  }

  private requireLimactl(): Limactl {
    if (!this.limactl) throw limactlNotFound();
    return this.limactl;
  }

  private requireFolders(): readonly SharedFolder[] {
    this.requireLimactl();
    if (this.folders.length === 0) {
      if (this.last.state === 'missing') throw vmNotRunning(this.instance, this.last);
      throw new AtlasError(
        'unsupported',
        `the ${this.instance} VM shares no folders with this Mac`,
        undefined,
        { next: [{ do: 'vm-recreate', instance: this.instance }] },
      );
    }
    return this.folders;
  }

  /** The writable shared folder used for hand-overs. */
  workFolder(): SharedFolder {
    const folders = this.requireFolders();
    if (this.options.workDir) {
      const g = toGuestPath(folders, this.options.workDir);
      if (g?.folder.writable) return g.folder;
    } else {
      const w = folders.find((f) => f.writable);
      if (w) return w;
    }
    throw new AtlasError(
      'unsupported',
      this.options.workDir
        ? `${this.options.workDir} is not in a folder the ${this.instance} VM may write to`
        : `the ${this.instance} VM has no writable shared folder`,
      'the VM shares the library it was set up with read-write',
      { next: [{ do: 'vm-recreate', instance: this.instance }] },
    );
  }

  toBuilderPath(hostPath: string): string {
    const folders = this.requireFolders();
    const g = toGuestPath(folders, hostPath);
    if (!g) {
      throw new AtlasError(
        'bad-input',
        `${resolve(hostPath)} is outside the folders shared with the ${this.instance} VM (${folders.map((f) => f.host).join(', ')})`,
        `move it into the work folder ${this.workFolderHostOrFirst(folders)}`,
        { next: [{ do: 'vm-recreate', instance: this.instance }] },
      );
    }
    // A path that does not exist yet is an output: the VM must be allowed to write there.
    if (!g.folder.writable && !existsSync(hostPath)) {
      throw new AtlasError(
        'bad-input',
        `${resolve(hostPath)} would be written by the ${this.instance} VM, but ${g.folder.host} is shared read-only`,
        `write into the work folder ${this.workFolderHostOrFirst(folders)} instead`,
      );
    }
    return g.guest;
  }

  private workFolderHostOrFirst(folders: readonly SharedFolder[]): string {
    return (folders.find((f) => f.writable) ?? folders[0])?.host ?? '?';
  }

  /** Fails with what to do unless the VM runs (reads its state from Lima each time). */
  async ensureRunning(): Promise<void> {
    const s = await this.refresh();
    if (s.state !== 'Running') throw vmNotRunning(this.instance, s);
  }

  /** Runs a command in the VM, in the shared work dir (as the VM's user; prefix sudo for root). */
  async guestCommand(
    command: readonly string[],
    options: { input?: string; signal?: AbortSignal; workdir?: string } = {},
  ): Promise<RunResult> {
    const lima = this.requireLimactl();
    const workdir = options.workdir ?? this.workFolder().guest;
    return lima.shell(this.instance, command, { ...options, workdir });
  }

  /** limactl's argv running a builder script under atlas-run.sh (cancellable by its pid file). */
  private async scriptCommand(
    script: BuilderScript,
    args: string[],
  ): Promise<{ command: string; argv: string[]; pidFile: string }> {
    if (!SCRIPT_NAME.test(script)) throw new AtlasError('bad-input', `not a builder script: ${script}`);
    const lima = this.requireLimactl();
    await this.ensureRunning();
    const work = this.workFolder();
    const staged = await stageScripts(this.scriptsDir, work.host);
    const runDir = join(work.host, RUN_DIR);
    await mkdir(runDir, { recursive: true, mode: 0o700 });
    const pidFile = join(runDir, `${randomUUID()}.pid`);
    const argv = lima.shellArgs(
      this.instance,
      [
        'sudo',
        'bash',
        this.toBuilderPath(join(staged, 'atlas-run.sh')),
        this.toBuilderPath(pidFile),
        script,
        ...args,
      ],
      work.guest,
    );
    return { command: lima.path, argv, pidFile };
  }

  private async forgetRun(pidFile: string): Promise<void> {
    await rm(pidFile, { force: true }).catch(() => undefined);
    await rm(`${pidFile}.cancel`, { force: true }).catch(() => undefined);
  }

  /**
   * Whether the VM can attach a host card as a block device (NBD): probed in the VM, where the
   * answer is kept for the boot, and remembered here for as long as the VM's boot id stays.
   */
  async blockDeviceSupport(ctx: JobContext): Promise<BlockDeviceSupport> {
    if (forcedStaged()) return { available: false, reason: 'ATLAS_CARD_ACCESS=staged' };
    const out = await this.runScript('nbd_card.sh', ['probe'], ctx);
    const probe = parseProbe(out.results);
    if (this.blockDevices?.bootId !== probe.bootId) this.blockDevices = probe;
    return this.blockDevices;
  }

  async attachCard(
    card: RawCard,
    options: AttachOptions,
    ctx: JobContext,
  ): Promise<AttachedCard | undefined> {
    const support = await this.blockDeviceSupport(ctx);
    if (!support.available) {
      ctx.log(
        `card access: a used-block copy in the work folder (the VM cannot attach the card: ${support.reason})`,
      );
      return undefined;
    }
    const host: GuestSessionHost = {
      sessionCommand: (args) => this.scriptCommand('nbd_card.sh', args),
      stopGuestScript: (pidFile) => this.stopGuestScript(pidFile),
      forgetRun: (pidFile) => this.forgetRun(pidFile),
    };
    return attachInGuest(host, card, options, ctx);
  }

  async runScript(
    script: BuilderScript,
    args: string[],
    ctx: JobContext,
    options: { stdin?: Readable } = {},
  ): Promise<ScriptOutcome> {
    if (!SCRIPT_NAME.test(script)) throw new AtlasError('bad-input', `not a builder script: ${script}`);
    ctx.throwIfCancelled();
    const { command, argv, pidFile } = await this.scriptCommand(script, args);

    let stopping: Promise<void> | undefined;
    const onAbort = () => {
      stopping = this.stopGuestScript(pidFile);
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await runScriptProcess(command, argv, ctx, script, 'tie', options.stdin);
    } catch (e) {
      if (stopping) await stopping;
      throw await this.explainFailure(e, script);
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      if (stopping) await stopping;
      await this.forgetRun(pidFile);
    }
  }

  /**
   * limactl exits 255 when ssh failed: the script never ran, or its connection was lost. When the
   * VM is no longer running, it was stopped (or crashed) under the script: say so, and what to do.
   */
  private async explainFailure(e: unknown, script: string): Promise<unknown> {
    if (e instanceof AtlasError && e.code === 'tool-failed' && /\(exit 255\)/.test(e.message)) {
      const now = await this.refresh().catch(() => undefined);
      if (now && now.state !== 'Running') {
        return new AtlasError(
          'tool-failed',
          `the ${this.instance} VM stopped while ${script} was running in it (it is ${now.state === 'missing' ? 'gone' : now.state} now)`,
          'run the job again once the VM runs',
          { cause: e, next: [{ do: 'vm-start' }] },
        );
      }
      const detail = e.message.split('\n').slice(1).join(' ').trim();
      return new AtlasError(
        'tool-failed',
        `could not reach the ${this.instance} VM${detail ? `: ${detail}` : ''}`,
        undefined,
        { cause: e, next: [{ do: 'vm-doctor' }, { do: 'vm-start' }] },
      );
    }
    return e;
  }

  /**
   * Cancels a script running in the VM: the cancel marker stops a script that has not started
   * yet; a started one is in its own process group (atlas-run.sh), which gets SIGTERM, then
   * SIGKILL after the grace period. Returns when the group is gone (or cannot be reached).
   */
  private async stopGuestScript(pidFile: string): Promise<void> {
    try {
      await writeFile(`${pidFile}.cancel`, '');
      const pgid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
      if (!Number.isInteger(pgid) || pgid <= 1) return;
      const kill = (sig: string) =>
        this.guestCommand(['sudo', 'kill', sig, '--', `-${pgid}`], { workdir: '/' });
      if ((await kill('-TERM')).exitCode !== 0) return;
      const deadline = Date.now() + this.killGraceSeconds * 1000;
      while (Date.now() < deadline) {
        await sleep(200);
        if ((await kill('-0')).exitCode !== 0) return;
      }
      await kill('-KILL');
    } catch {
      // The VM went away: there is nothing left to stop.
    }
  }

  /**
   * Copies atlas_secrets.conf into the VM (root only, mode 0600) for inject_atlas.sh. The content
   * goes through limactl's stdin only: never on a command line, in a log or in the shared folder.
   */
  async stageSecrets(hostFile: string, ctx: JobContext): Promise<string> {
    await this.ensureRunning();
    let content: string;
    try {
      content = await readFile(hostFile, 'utf8');
    } catch {
      throw new AtlasError(
        'not-found',
        `cannot read the secrets file ${hostFile}`,
        'check the path of the secrets file',
      );
    }
    const r = await this.guestCommand(
      ['sudo', 'install', '-D', '-m', '0600', '/dev/stdin', GUEST_SECRETS_PATH],
      {
        input: content,
        signal: ctx.signal,
        workdir: '/',
      },
    );
    if (r.exitCode !== 0) {
      throw new AtlasError(
        'tool-failed',
        r.exitCode === 255
          ? `could not reach the ${this.instance} VM to hand it atlas_secrets.conf`
          : `could not copy atlas_secrets.conf into the ${this.instance} VM (exit ${r.exitCode})`,
        undefined,
        { next: [{ do: 'vm-doctor' }] },
      );
    }
    return GUEST_SECRETS_PATH;
  }
}
