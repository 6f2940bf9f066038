/** `ods-sd restore`: Phase 1, a clone set onto a card, root grown to fill it. */
import { checkRestore, restore } from '../../core/phases/restore.js';
import { defineCommand } from '../command.js';
import { bytes } from '../format.js';
import { CARD, CARD_WRITE_OPTIONS, cardWriteParams } from './card-write-options.js';

export const restoreCommand = defineCommand({
  name: 'restore',
  summary:
    'Phase 1: golden-clone-NAME/ -> card (a smaller one too, when the data fits), root grown to fill it, then the card is ejected',
  odsSdForm:
    'restore CARD NAME   (NAME may be one of their sets: ~/Documents/GitHub/ods-player-os-atlas/clones/NAME, checked before it is written)',
  positionals: [CARD, { name: 'name', label: 'NAME' }],
  options: CARD_WRITE_OPTIONS,
  destructive: ({ card, name }) => `restore ${name} onto ${card}: everything on ${card} will be erased`,
  preflight: ({ args, options, library }) =>
    checkRestore(library, { card: args.card, set: args.name, ...cardWriteParams(options) }),
  run: async ({ args, options, env, job }) =>
    restore(await env(), { card: args.card, set: args.name, ...cardWriteParams(options) }, job),
  human: (x) =>
    [
      `Restored ${x.set} onto ${x.card}; root partition ${x.grown ? 'grown to' : 'kept at'} ${bytes(x.rootSectors * 512)}`,
      ...(x.shrunkToFit
        ? [
            `  the card is smaller than the clone's card: root shrunk to fit (the data needs a card of ${bytes(x.minBytes ?? 0)})${x.lowHeadroom ? '; less than 5% free over its minimum' : ''}`,
          ]
        : []),
      ...(x.eject ? [`  ${x.eject.message}`] : []),
    ].join('\n'),
});
