/** The builder on this Linux host: scripts run here, as root (directly, or through sudo -n). */
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { JobContext } from '../jobs/job.js';
import { SCRIPTS_DIR } from '../paths.js';
import type { Builder, BuilderScript, ScriptOutcome } from './builder.js';
import { runScriptProcess } from './script-runner.js';
import { tieScript } from '../tools/tie.js';

export class LocalBuilder implements Builder {
  readonly kind = 'local' as const;
  readonly seesHostDevices = true;

  constructor(private readonly scriptsDir = SCRIPTS_DIR) {}

  describe(): string {
    return 'this Linux host';
  }

  toBuilderPath(hostPath: string): string {
    return resolve(hostPath);
  }

  async stageSecrets(hostFile: string): Promise<string> {
    return resolve(hostFile);
  }

  runScript(
    script: BuilderScript,
    args: string[],
    ctx: JobContext,
    options: { stdin?: Readable } = {},
  ): Promise<ScriptOutcome> {
    const path = join(this.scriptsDir, script);
    if (process.getuid?.() === 0)
      return runScriptProcess('bash', [path, ...args], ctx, script, 'tie', options.stdin);
    // The tie runs inside sudo, as root: from outside, this user could not stop root's processes.
    // A script reading a stream has that stream as its lifeline instead (it fails when the stream
    // is cut); a cancel then reaches sudo, which passes it to the script, whose trap ends it.
    const tie = options.stdin ? undefined : tieScript();
    const tied = tie ? ['bash', tie, '10'] : [];
    return runScriptProcess(
      'sudo',
      ['-n', ...tied, 'bash', path, ...args],
      ctx,
      script,
      'pass',
      options.stdin,
    );
  }
}
