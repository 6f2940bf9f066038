/** `ods-sd flash`: an image onto one or more cards, each verified by reading back, then ejected. */
import { AtlasError } from '../../core/errors.js';
import { checkFlash, flash, type FlashParams } from '../../core/phases/flash.js';
import { defineCommand } from '../command.js';
import { bytes } from '../format.js';
import { cliHint } from '../next-steps.js';
import { CARD_WRITE_OPTIONS, cardWriteParams } from './card-write-options.js';

export const NO_VERIFY_OPTION = {
  type: 'boolean',
  help: 'do not read the card back to compare it with what was written',
} as const;

function flashParams(
  args: { readonly image: string; readonly cards: readonly string[] },
  options: {
    readonly 'no-verify': boolean;
    readonly force: boolean;
    readonly 'allow-large-disk': boolean;
    readonly 'no-eject': boolean;
  },
): FlashParams {
  return {
    image: args.image,
    cards: [...args.cards],
    verify: !options['no-verify'],
    force: options.force,
    ...cardWriteParams(options),
  };
}

export const flashCommand = defineCommand({
  name: 'flash',
  summary: 'write an image (.img/.img.xz/.img.gz/.img.zst) to one or more cards, verify them, eject them',
  positionals: [
    { name: 'image', label: 'IMAGE' },
    { name: 'cards', label: 'CARD', variadic: true },
  ],
  options: {
    'no-verify': NO_VERIFY_OPTION,
    force: {
      type: 'boolean',
      help: 'write a file that is not a Raspberry Pi card image (no partition table, or no FAT\nboot partition first) all the same',
    },
    ...CARD_WRITE_OPTIONS,
  },
  destructive: ({ cards }) =>
    `flash onto ${cards.join(', ')}: everything on ${cards.length > 1 ? 'these cards' : cards[0]} will be erased`,
  preflight: ({ args, options, library }) => checkFlash(library, flashParams(args, options)),
  run: async ({ args, options, env, job }) => flash(await env(), flashParams(args, options), job),
  human: (x) => {
    const how =
      x.mode === 'stream'
        ? 'whole image'
        : `${bytes(x.mappedBytes)} mapped of ${bytes(x.imageBytes)} (${x.mode})`;
    const lines = x.cards.map((c) => {
      if (c.ok)
        return `  ${c.card}: ${bytes(c.writtenBytes ?? 0)} written, ${c.verified ? 'verified (read back, matches)' : 'not verified'}${c.shrunkToFit ? `; smaller than the image: root shrunk to fit (the data needs ${bytes(c.minBytes ?? 0)})` : ''}${c.eject ? `; ${c.eject.message}` : ''}`;
      const hint = c.error && cliHint(c.error);
      return `  ${c.card}: FAILED: ${c.error?.message}${hint ? ` (${hint})` : ''}`;
    });
    return [`Flashed ${x.image}: ${how}`, ...lines].join('\n');
  },
  failure: (x) =>
    x.failed === 0
      ? undefined
      : new AtlasError(
          'tool-failed',
          `${x.failed} of ${x.cards.length} cards failed`,
          'see each card above; the others are fine',
        ),
});
