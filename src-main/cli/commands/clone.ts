/** `ods-sd clone`: Phase 1, a card becomes a clone set (partclone, used blocks only). */
import { dateCloneName } from '../../core/library/ods-sd-layout.js';
import { clone, DEFAULT_CLONE_LEVEL } from '../../core/phases/clone.js';
import { defineCommand } from '../command.js';
import { bytes } from '../format.js';
import { CARD } from './card-write-options.js';

export const cloneCommand = defineCommand({
  name: 'clone',
  summary: 'Phase 1: card -> golden-clone-NAME/ (partclone, used blocks only)',
  odsSdForm:
    'clone CARD   (no NAME: golden-clone-clone-YYYYMMDD_HHMMSS, named from the date as ods-sd names it)',
  positionals: [CARD, { name: 'name', label: 'NAME', optional: true }],
  options: {
    'compress-level': {
      type: 'string',
      arg: 'N',
      help: `gzip level of the images, 1-9 (default ${DEFAULT_CLONE_LEVEL}: ISA-L's igzip, at the card's speed;\n4-9: pigz, slower, smaller)`,
    },
  },
  run: async ({ args, options, env, job }) =>
    clone(
      await env(),
      {
        card: args.card,
        name: args.name ?? dateCloneName(),
        ...(options['compress-level'] !== undefined
          ? { compressLevel: Number(options['compress-level']) }
          : {}),
      },
      job,
    ),
  human: (x) =>
    [
      `Clone set (Phase 1): ${x.dir}`,
      ...x.files.map((f) => `  ${f.name.padEnd(24)} ${bytes(f.bytes).padStart(9)}  ${f.sha256}`),
    ].join('\n'),
});
