/**
 * The ods-sd command table: every command once, in the order the help lists them. Each entry
 * (commands/*.ts) describes its arguments, runs a core phase and prints its own typed result.
 */
import type { Command } from './command.js';
import { adoptCommand } from './commands/adopt.js';
import { cardsCommand } from './commands/cards.js';
import { cloneCommand } from './commands/clone.js';
import { eraseCommand } from './commands/erase.js';
import { flashCommand } from './commands/flash.js';
import { insertCommand } from './commands/insert.js';
import { inspectCommand } from './commands/inspect.js';
import { listCommand } from './commands/list.js';
import { placesCommand } from './commands/places.js';
import { restoreCommand } from './commands/restore.js';
import { secretsCommand } from './commands/secrets.js';
import { shrinkCommand } from './commands/shrink.js';
import { verifyCommand } from './commands/verify.js';
import { vmCommand } from './commands/vm.js';

export const COMMANDS: readonly Command[] = [
  insertCommand,
  cloneCommand,
  restoreCommand,
  verifyCommand,
  shrinkCommand,
  flashCommand,
  eraseCommand,
  inspectCommand,
  cardsCommand,
  secretsCommand,
  listCommand,
  adoptCommand,
  placesCommand,
  vmCommand,
];

export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}
