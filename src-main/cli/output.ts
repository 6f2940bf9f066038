/**
 * How ods-sd reports: the human text on stdout, errors on stderr (cliErrorText), and with --json
 * one JSON object on stdout's last line ({ok:true,command,result} or {ok:false,error[,result]}).
 */
import type { AtlasError } from '../core/errors.js';
import { cliErrorJson, cliErrorText } from './next-steps.js';

/** Prints the error (and the result it came with, if any); returns the exit status. */
export function printError(err: AtlasError, json: boolean, result?: unknown): number {
  if (json) {
    const error = cliErrorJson(err.toJSON());
    const body = result === undefined ? { ok: false, error } : { ok: false, error, result };
    process.stdout.write(`${JSON.stringify(body)}\n`);
  }
  process.stderr.write(cliErrorText(err));
  return err.exitCode;
}

/** Prints a command's success; returns 0. */
export function printSuccess(command: string, result: unknown, json: boolean): number {
  if (json) process.stdout.write(`${JSON.stringify({ ok: true, command, result })}\n`);
  return 0;
}
