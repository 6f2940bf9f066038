/** A command's usage line and help text, from its description. */
import { GLOBAL_OPTIONS, type OptionSpec, type OptionSpecs, type PositionalSpec } from './arguments.js';

export function positionalUsage(positionals: readonly PositionalSpec[]): string {
  return positionals
    .map((p) => (p.variadic ? `${p.label} [${p.label}...]` : p.optional ? `[${p.label}]` : p.label))
    .join(' ');
}

/** `--out-dir DIR`, `--compress xz|zst`, `--force`. */
function optionFlag(name: string, o: OptionSpec): string {
  return `--${name}${o.type === 'string' ? ` ${o.choices ? o.choices.join('|') : o.arg}` : ''}`;
}

/** In the usage line: in brackets unless the command cannot run without it. */
function optionUsage(name: string, o: OptionSpec): string {
  const flag = optionFlag(name, o);
  return o.type === 'string' && o.required ? flag : `[${flag}]`;
}

/** The options every command takes, but --help. */
export const SHARED_OPTIONS: OptionSpecs = Object.fromEntries(
  Object.entries(GLOBAL_OPTIONS).filter(([k]) => k !== 'help'),
);

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

/** `flash IMAGE CARD [CARD...] [--no-verify] …`: the name, the positionals, then the options. */
export function usageLine(
  name: string,
  positionals: readonly PositionalSpec[],
  options: OptionSpecs,
): string {
  return [name, positionalUsage(positionals), ...Object.entries(options).map(([k, o]) => optionUsage(k, o))]
    .filter(Boolean)
    .join(' ');
}

export function commandHelp(
  usage: string,
  summary: string,
  options: OptionSpecs,
  destructive: boolean,
  odsSdForm?: string,
): string {
  const own = Object.keys(options).length ? ['', 'options:', ...optionLines(options)] : [];
  return [
    `usage: ods-sd ${usage}`,
    summary,
    ...(odsSdForm ? ['', ...formLines(usage, odsSdForm)] : []),
    ...own,
    ...(destructive ? ['', 'It asks before writing; without a terminal pass --yes.'] : []),
    '',
    `options for every command: ${Object.entries(SHARED_OPTIONS)
      .map(([k, o]) => optionFlag(k, o))
      .join(', ')} (see ods-sd --help)`,
  ].join('\n');
}

/** Which form is ours and which is the one tools/ods-sd writes (both accepted). */
export function formLines(usage: string, odsSdForm: string): string[] {
  return [`  ours:          ods-sd ${usage}`, `  tools/ods-sd:  ods-sd ${odsSdForm}  (accepted too)`];
}
