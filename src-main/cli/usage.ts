/** A command's usage line and help text, from its description. */
import type { OptionSpec, OptionSpecs, PositionalSpec } from './arguments.js';

export function positionalUsage(positionals: readonly PositionalSpec[]): string {
  return positionals
    .map((p) => (p.variadic ? `${p.label} [${p.label}...]` : p.optional ? `[${p.label}]` : p.label))
    .join(' ');
}

function optionUsage(name: string, o: OptionSpec): string {
  if (o.type === 'boolean') return `[--${name}]`;
  const flag = `--${name} ${o.choices ? o.choices.join('|') : o.arg}`;
  return o.required ? flag : `[${flag}]`;
}

function optionFlag(name: string, o: OptionSpec): string {
  return `--${name}${o.type === 'string' ? ` ${o.choices ? o.choices.join('|') : o.arg}` : ''}`;
}

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
): string {
  const own = Object.keys(options).length ? ['', 'options:', ...optionLines(options)] : [];
  return [
    `usage: ods-sd ${usage}`,
    summary,
    ...own,
    ...(destructive ? ['', 'It asks before writing; without a terminal pass --yes.'] : []),
    '',
    'options for every command: --library DIR, --json, --yes, --verbose (see ods-sd --help)',
  ].join('\n');
}
