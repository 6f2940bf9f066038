/** `ods-sd erase`: a card back to one FAT32 partition, for normal use. */
import { checkErase, erase, type EraseParams } from '../../core/phases/erase.js';
import { defineCommand } from '../command.js';
import { bytes } from '../format.js';
import { CARD, CARD_WRITE_OPTIONS, cardWriteParams } from './card-write-options.js';
import { NO_VERIFY_OPTION } from './flash.js';

function eraseParams(
  card: string,
  options: {
    readonly label: string | undefined;
    readonly 'no-verify': boolean;
    readonly 'allow-large-disk': boolean;
    readonly 'no-eject': boolean;
  },
): EraseParams {
  return {
    card,
    ...(options.label ? { label: options.label } : {}),
    verify: !options['no-verify'],
    ...cardWriteParams(options),
  };
}

export const eraseCommand = defineCommand({
  name: 'erase',
  summary: 'erase a card back to one FAT32 partition (MBR, from 4 MiB, label BOOT) for normal use',
  positionals: [CARD],
  options: {
    label: { type: 'string', arg: 'NAME', help: 'the partition label (default BOOT)' },
    'no-verify': NO_VERIFY_OPTION,
    ...CARD_WRITE_OPTIONS,
  },
  destructive: ({ card }) => `erase ${card}: everything on ${card} will be lost`,
  preflight: async ({ args, options, library }) => {
    await checkErase(library, eraseParams(args.card, options));
  },
  run: async ({ args, options, env, job }) => erase(await env(), eraseParams(args.card, options), job),
  human: (x) =>
    [
      `Erased ${x.card}: one FAT32 partition "${x.label}", ${bytes(x.partitionSectors * 512)} from sector ${x.partitionStart}`,
      `  ${bytes(x.writtenBytes)} written, ${x.verified ? 'verified (read back, matches)' : 'not verified'}${x.eject ? `; ${x.eject.message}` : ''}`,
    ].join('\n'),
});
