/**
 * Turns a running builder script's output into job progress and a typed outcome. Shared by the
 * local and the Lima builder: both hand it the command that starts the script.
 */
import type { Readable } from 'node:stream';
import { errorCodeOfScript } from '../../common/error-codes.js';
import { AtlasError, type ErrorCode, type NextStep } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import { runTool } from '../tools/run-tool.js';
import type { ScriptOutcome } from './builder.js';
import { parsePartcloneProgress, parseScriptLine, type ScriptEvent } from './script-events.js';

const HINTS: Partial<Record<ErrorCode, { hint?: string; next?: NextStep[] }>> = {
  'missing-tool': { hint: 'install the missing tools', next: [{ do: 'vm-doctor' }] },
  permission: { next: [{ do: 'run-as-root' }] },
  'too-small': { hint: 'use a larger card, or flash a shrunk ods-atlas-clone image instead' },
  'no-space': { hint: 'free some space and run it again' },
  unsupported: {
    hint: 'an Armbian Raspberry Pi image has a FAT32 boot partition and an ext4 root partition',
  },
  'wrong-phase': {
    hint: 'Insert creates Phase 0 from a base Armbian image; Clone creates Phase 1 from a provisioned card',
  },
};

export async function runScriptProcess(
  command: string,
  args: string[],
  ctx: JobContext,
  label: string,
  /** `pass`: the command ties the script to this process itself (see RunOptions.lifeline). */
  lifeline: 'tie' | 'pass' = 'tie',
  /** The script's stdin (RunOptions.stdin). */
  stdin?: Readable,
): Promise<ScriptOutcome> {
  const events: ScriptEvent[] = [];
  const results = new Map<string, string[]>();
  const log: string[] = [];
  let stepTotal = 0;
  let fail: { code: string; message: string } | undefined;

  const r = await runTool(command, args, {
    signal: ctx.signal,
    lifeline,
    ...(stdin ? { stdin } : {}),
    onStdoutLine: (line) => {
      const e = parseScriptLine(line);
      if (!e) {
        log.push(line);
        ctx.log(line);
        return;
      }
      events.push(e);
      if (e.kind === 'step') {
        stepTotal = e.totalBytes;
        ctx.step(e.id, e.label, e.totalBytes);
      } else if (e.kind === 'progress') {
        ctx.progress(e.done, e.total);
      } else if (e.kind === 'result') {
        const list = results.get(e.key) ?? [];
        list.push(e.value);
        results.set(e.key, list);
      } else if (e.kind === 'fail') {
        fail = { code: e.code, message: e.message };
      }
    },
    onStderrLine: (line) => {
      const fraction = parsePartcloneProgress(line);
      if (fraction !== undefined) {
        if (stepTotal > 0) ctx.progress(Math.round(fraction * stepTotal), stepTotal);
        return;
      }
      if (/^\s*$/.test(line) || /Elapsed:|current block:/.test(line)) return;
      log.push(line);
      ctx.log(line);
    },
  });
  if (r.exitCode !== 0) {
    if (fail) {
      const code: ErrorCode = errorCodeOfScript(fail.code);
      const help = HINTS[code];
      throw new AtlasError(code, fail.message, help?.hint, help?.next ? { next: help.next } : undefined);
    }
    const tail = log.slice(-6).join('\n');
    if (/No space left on device/i.test(tail)) {
      throw new AtlasError(
        'no-space',
        `${label}: the work directory ran out of space`,
        'free some space and run it again',
      );
    }
    throw new AtlasError('tool-failed', `${label} failed (exit ${r.exitCode})${tail ? `:\n${tail}` : ''}`);
  }
  return { events, results, log };
}
