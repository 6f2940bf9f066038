/** `ods-sd cards`: the disks of this machine, which may be written and why not the others. */
import { stat } from 'node:fs/promises';
import { listCards } from '../../core/cards/drive-list.js';
import { defineCommand } from '../command.js';
import { bytes, table } from '../format.js';

export const cardsCommand = defineCommand({
  name: 'cards',
  summary: 'the disks on this machine: which can be used as a card, and why the others cannot',
  positionals: [],
  options: {
    image: { type: 'string', arg: 'IMAGE', help: 'the image to write: a card must be large enough for it' },
    all: { type: 'boolean', help: 'virtual disks (loop devices, disk images) too' },
  },
  run: async ({ options, env }) => {
    const { library } = await env();
    const image = options.image;
    const requiredBytes = image ? (await stat(image)).size : undefined;
    return listCards({
      places: [{ what: 'the library', path: library }],
      ...(image ? { sourceImage: image } : {}),
      ...(requiredBytes ? { requiredBytes } : {}),
      allowVirtual: options.all,
    });
  },
  human: (list) => {
    if (list.length === 0) return 'No disks found.';
    const rows = [['device', 'size', 'description', 'usable']];
    for (const d of list)
      rows.push([
        d.device,
        bytes(d.size),
        d.description,
        !d.usable
          ? `no: ${d.reasons.join('; ')}`
          : d.confirm
            ? `only with --allow-large-disk: ${d.confirm}`
            : `yes${d.notes?.length ? ` (${d.notes.join('; ')})` : ''}`,
      ]);
    return table(rows);
  },
});
