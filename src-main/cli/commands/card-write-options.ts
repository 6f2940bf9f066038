/** What the commands that write a card (flash, restore, erase) share: their options and positional. */

export const CARD = { name: 'card', label: 'CARD' } as const;

/** Options of every command that writes a card. */
export const CARD_WRITE_OPTIONS = {
  'allow-large-disk': {
    type: 'boolean',
    help: 'write a disk larger than 256 GB (no SD card is) or one macOS calls internal;\nwithout it such a disk is refused, even with --yes',
  },
  'no-eject': {
    type: 'boolean',
    help: 'keep the card attached after writing (default: flushed and ejected)',
  },
} as const;

/** The card-writing options as phase parameters. */
export function cardWriteParams(o: { readonly 'allow-large-disk': boolean; readonly 'no-eject': boolean }): {
  eject: boolean;
  allowUnusual: boolean;
} {
  return { eject: !o['no-eject'], allowUnusual: o['allow-large-disk'] };
}
