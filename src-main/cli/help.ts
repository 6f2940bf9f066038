/** `ods-sd --help`: every command of the table, the options they share, and the safety rules. */
import type { Command } from './command.js';
import { optionLines, SHARED_OPTIONS } from './usage.js';
import { CARD_WRITE_OPTIONS } from './commands/card-write-options.js';

/** `flash, restore and erase`. */
function andList(words: readonly string[]): string {
  return words.length > 1 ? `${words.slice(0, -1).join(', ')} and ${words.at(-1)}` : (words[0] ?? '');
}

export function generalHelp(commands: readonly Command[]): string {
  const writers = commands
    .filter((c) => Object.keys(CARD_WRITE_OPTIONS).every((k) => k in c.options))
    .map((c) => c.name);
  return [
    'usage: ods-sd COMMAND [options]',
    '',
    'A CARD is a block device (/dev/sdc, /dev/diskN) or an image file standing in for one.',
    '',
    ...commands.map(
      (c) =>
        `  ods-sd ${c.usage}\n      ${c.summary}` +
        (c.odsSdForm ? `\n      tools/ods-sd's form, accepted too: ods-sd ${c.odsSdForm}` : ''),
    ),
    '',
    'options for every command:',
    ...optionLines(SHARED_OPTIONS, 16),
    '',
    `options of ${andList(writers)}:`,
    ...optionLines(CARD_WRITE_OPTIONS),
    '',
    'A disk that holds the running system, the library or the image is never written; mounted',
    'file systems of the card are unmounted first, and if that fails nothing is written.',
    '',
    'ods-sd COMMAND --help tells more about one command.',
  ].join('\n');
}
