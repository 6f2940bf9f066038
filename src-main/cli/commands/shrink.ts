/** `ods-sd shrink`: Phase 2, a verified card becomes a shrunk, self-expanding clone image. */
import { DIST_COMPRESSIONS } from '../../core/images/compression.js';
import { shrink } from '../../core/phases/shrink.js';
import { defineCommand } from '../command.js';
import { bytes } from '../format.js';
import { CARD } from './card-write-options.js';
import { CHECKLIST_OPTION } from './verify.js';
import { verifyText } from './verify-text.js';

export const shrinkCommand = defineCommand({
  name: 'shrink',
  summary:
    'Phase 2: card -> ods-atlas-clone-vX-Y-Z-TAG.img (shrunk, self-expanding); --compress: .img.xz|.img.zst with .bmap and .sha256',
  positionals: [CARD],
  options: {
    version: { type: 'string', arg: 'X.Y.Z', required: true, help: 'the version in the image name' },
    tag: { type: 'string', arg: 'TAG', required: true, help: 'the tag in the image name' },
    compress: {
      type: 'string',
      arg: 'KIND',
      choices: DIST_COMPRESSIONS,
      help: 'a distributable image: compressed, with a block map and a checksum file',
    },
    'out-dir': { type: 'string', arg: 'DIR', help: 'where the image goes (default: the library)' },
    checklist: CHECKLIST_OPTION,
    force: { type: 'boolean', help: 'shrink even when required checks of the checklist fail' },
  },
  run: async ({ args, options, env, job }) =>
    shrink(
      await env(),
      {
        card: args.card,
        version: options.version,
        tag: options.tag,
        force: options.force,
        ...(options.compress ? { compress: options.compress } : {}),
        ...(options['out-dir'] ? { outDir: options['out-dir'] } : {}),
        ...(options.checklist ? { checklist: options.checklist } : {}),
      },
      job,
    ),
  human: (x) =>
    [
      verifyText(x.checklist),
      `Clone image (Phase 2): ${x.image}`,
      `  ${bytes(x.bytes)}, root partition ${x.rootSectors} sectors from ${x.rootStart}; resize service ${x.resizeService}`,
      ...x.passes.map(
        (p) => `  resize2fs -M pass ${p.pass}: ${p.before} -> ${p.after} blocks (gained ${p.gained})`,
      ),
      `  file system ${x.fsBlocks} blocks, resize2fs -P estimate ${x.fsMinBlocks}`,
      ...(x.compression !== 'none'
        ? [
            `  ${x.compression} of a ${bytes(x.imageBytes)} image (free space zeroed); block map ${x.bmap}`,
            `  checksum ${x.sha256File} (sha256sum -c)`,
          ]
        : []),
      `  sha256 ${x.sha256}`,
    ].join('\n'),
});
