/**
 * The argument checks of every request channel, run in main before a handler (and so the core)
 * sees anything the renderer sent. The map is typed against the contract: a channel without a
 * check, or a check that yields the wrong shape, does not compile.
 *
 * Values with a meaning of their own (version, tag, clone-set name) are only bounded here; the
 * core validates them with the hint the user sees. A clone-set name that a job would write or
 * read is also refused here when it ends in a suffix the library keeps for itself (`.partial`).
 */
import { AtlasError } from '../core/errors.js';
import { validateNotReserved } from '../core/validate.js';
import { arr, bool, byKind, int, nullable, obj, oneOf, opt, path, str, tuple, type Check } from './checks.js';
import {
  isInvokeChannel,
  type CardRef,
  type InvokeArgs,
  type InvokeChannel,
  type JobRequest,
  type NamePlanRequest,
  type SettingsPatch,
} from './contract.js';

const word = () => str({ min: 1, max: 80 });
/** A clone-set name a job writes or reads: bounded, and never the library's own unfinished output. */
const setName = (): Check<string> => {
  const bounded = word();
  return (v, at) => validateNotReserved(bounded(v, at));
};
const id = () => str({ min: 1, max: 64, pattern: /^[A-Za-z0-9-]+$/ });

const cardRef: Check<CardRef> = obj({
  path: path(),
  kind: oneOf(['device', 'file'] as const),
  bytes: int(),
  node: int(),
  model: opt(str({ max: 200 })),
  serial: opt(str({ max: 200 })),
  medium: opt(str({ max: 4200 })),
  table: opt(str({ max: 100 })),
});

const jobRequest: Check<JobRequest> = byKind({
  inspect: obj({ kind: oneOf(['inspect'] as const), path: path() }),
  insert: obj({
    kind: oneOf(['insert'] as const),
    base: path(),
    payload: path(),
    version: word(),
    tag: word(),
  }),
  flash: obj({
    kind: oneOf(['flash'] as const),
    image: path(),
    cards: arr(cardRef, { min: 1, max: 16 }),
    verify: bool(),
    confirmed: opt(arr(path(), { max: 16 })),
  }),
  clone: obj({ kind: oneOf(['clone'] as const), card: cardRef, name: setName() }),
  restore: obj({
    kind: oneOf(['restore'] as const),
    card: cardRef,
    set: setName(),
    confirmed: opt(bool()),
  }),
  erase: obj({ kind: oneOf(['erase'] as const), card: cardRef, confirmed: opt(bool()) }),
  verify: obj({ kind: oneOf(['verify'] as const), card: path() }),
  shrink: obj({
    kind: oneOf(['shrink'] as const),
    card: path(),
    version: word(),
    tag: word(),
    force: bool(),
    compress: opt(oneOf(['xz', 'zst'] as const)),
  }),
  archive: obj({ kind: oneOf(['archive'] as const), path: path() }),
  stage: obj({ kind: oneOf(['stage'] as const), path: path() }),
  'vm-setup': obj({ kind: oneOf(['vm-setup'] as const) }),
  'vm-start': obj({ kind: oneOf(['vm-start'] as const) }),
  'vm-stop': obj({ kind: oneOf(['vm-stop'] as const) }),
});

const namePlan: Check<NamePlanRequest> = byKind({
  'golden-image': obj({ kind: oneOf(['golden-image'] as const), version: word(), tag: word() }),
  'clone-image': obj({
    kind: oneOf(['clone-image'] as const),
    version: word(),
    tag: word(),
    compress: opt(oneOf(['xz', 'zst'] as const)),
  }),
  'clone-set': obj({ kind: oneOf(['clone-set'] as const), name: word() }),
});

const settingsPatch: Check<SettingsPatch> = obj({
  payloadDir: opt(nullable(path())),
  archiveDir: opt(path()),
});

type ArgChecks = { [K in InvokeChannel]: Check<InvokeArgs<K>> };

export const ARG_CHECKS: ArgChecks = {
  'app:info': tuple(),
  'settings:get': tuple(),
  'settings:set': tuple(settingsPatch),
  'dialog:open-file': tuple(oneOf(['base-image', 'image', 'card-image', 'secrets'] as const)),
  'dialog:open-folder': tuple(oneOf(['payload', 'archive'] as const)),
  'payload:check': tuple(path()),
  'secrets:status': tuple(),
  'secrets:import': tuple(path()),
  'secrets:forget': tuple(),
  'names:suggest': tuple(),
  'names:plan': tuple(namePlan),
  'names:next-set': tuple(str({ max: 80 })),
  'library:list': tuple(),
  'library:reveal': tuple(path()),
  'library:delete-request': tuple(path()),
  'library:delete': tuple(path(), id()),
  'cards:list': tuple(),
  'cards:identify': tuple(path()),
  'flash:check': tuple(path(), arr(cardRef, { min: 1, max: 16 })),
  'jobs:start': tuple(jobRequest),
  'jobs:cancel': tuple(id()),
  'jobs:list': tuple(),
  'vm:status': tuple(),
  'vm:doctor': tuple(),
  'terminal:open': tuple(int({ min: 2, max: 1000 }), int({ min: 2, max: 1000 })),
  'terminal:input': tuple(id(), str({ max: 65536 })),
  'terminal:resize': tuple(id(), int({ min: 2, max: 1000 }), int({ min: 2, max: 1000 })),
  'terminal:close': tuple(id()),
};

/** Checks a request's channel and arguments; returns the arguments typed for the handler. */
export function validateRequest<K extends InvokeChannel>(channel: K, args: unknown): InvokeArgs<K>;
export function validateRequest(channel: unknown, args: unknown): unknown[];
export function validateRequest(channel: unknown, args: unknown): unknown[] {
  if (!isInvokeChannel(channel)) {
    throw new AtlasError(
      'bad-input',
      `unknown request channel ${JSON.stringify(String(channel).slice(0, 80))}`,
    );
  }
  return (ARG_CHECKS[channel] as Check<unknown[]>)(args, channel);
}
