/**
 * Main's check of every request the renderer sends, before a handler (and so the core) sees it:
 * the channel must be one of the contract's, and its arguments must match the channel's schema
 * (contract/channels.ts). A refusal is a bad-input AtlasError naming the argument and what is
 * allowed, e.g. `invalid argument jobs:start#1.cards[0].node: out of range`.
 */
import { check, dotPath, type ProblemPath } from '../common/schema.js';
import { AtlasError } from '../core/errors.js';
import { INVOKE, isInvokeChannel, type InvokeArgs, type InvokeChannel } from '../common/contract.js';

const BUG = 'this is a bug in the app: report it';

/** `jobs:start#1.cards[0]`: an argument's position, then the path inside it. */
function where(channel: string, path: ProblemPath): string {
  const [position, ...inside] = path;
  if (typeof position !== 'number') return channel;
  const rest = dotPath(inside);
  return `${channel}#${position + 1}${rest && !rest.startsWith('[') ? `.${rest}` : rest}`;
}

/** Checks a request's channel and arguments; returns the arguments typed for the handler. */
export function validateRequest<K extends InvokeChannel>(channel: K, args: unknown): InvokeArgs<K>;
export function validateRequest(channel: unknown, args: unknown): unknown[];
export function validateRequest(channel: unknown, args: unknown): unknown[] {
  if (!isInvokeChannel(channel)) {
    throw new AtlasError(
      'bad-input',
      `unknown request channel ${JSON.stringify(String(channel).slice(0, 80))}`,
      BUG,
    );
  }
  const schema = INVOKE[channel].args;
  if (!Array.isArray(args))
    throw new AtlasError('bad-input', `invalid argument ${channel}: expected an argument list`, BUG);
  if (args.length !== schema.items.length) {
    throw new AtlasError(
      'bad-input',
      `invalid argument ${channel}: expected ${schema.items.length} argument(s), got ${args.length}`,
      BUG,
    );
  }
  const r = check(schema, args);
  if (!r.ok)
    throw new AtlasError(
      'bad-input',
      `invalid argument ${where(channel, r.problem.path)}: ${r.problem.message}`,
      BUG,
    );
  return r.value as unknown[];
}
