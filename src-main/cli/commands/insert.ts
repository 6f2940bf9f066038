/** `ods-sd insert`: Phase 0, a base image and the payload become a golden image. */
import { insert } from '../../core/phases/insert.js';
import { defineCommand } from '../command.js';
import { insertPayload, insertTarget } from './insert-target.js';

export const insertCommand = defineCommand({
  name: 'insert',
  summary: 'Phase 0: base Armbian image + payload -> ods-atlas-golden-vX-Y-Z-TAG.img',
  odsSdForm: 'insert BASE OUT   (OUT named ods-atlas-golden-vX-Y-Z-TAG.img: version, tag and folder from it)',
  positionals: [
    { name: 'base', label: 'BASE' },
    { name: 'out', label: 'OUT', optional: true },
  ],
  options: {
    payload: {
      type: 'string',
      arg: 'DIR',
      help: 'the ods-player-os-atlas checkout, or its scripts/ folder\n(default: ~/Documents/GitHub/ods-player-os-atlas, where tools/ods-sd keeps it)',
    },
    version: { type: 'string', arg: 'X.Y.Z', help: 'the version in the image name (or from OUT)' },
    tag: { type: 'string', arg: 'TAG', help: 'the tag in the image name (or from OUT)' },
    secrets: {
      type: 'string',
      arg: 'FILE',
      help: 'atlas_secrets.conf (default: the one beside the payload, else the one kept in the library)',
    },
    'out-dir': {
      type: 'string',
      arg: 'DIR',
      help: "where the image goes (default: the library, or OUT's folder)",
    },
  },
  run: async ({ args, options, env, job }) => {
    const target = insertTarget(args.out, {
      version: options.version,
      tag: options.tag,
      outDir: options['out-dir'],
    });
    const payload = insertPayload(options.payload);
    return insert(
      await env(),
      {
        base: args.base,
        payload,
        version: target.version,
        tag: target.tag,
        ...(options.secrets ? { secrets: options.secrets } : {}),
        ...(target.outDir ? { outDir: target.outDir } : {}),
      },
      job,
    );
  },
  human: (x) =>
    [
      `Golden image (Phase 0): ${x.image}`,
      `  sha256 ${x.sha256}`,
      ...x.injected.map((i) => `  injected ${i.path} (${i.what})`),
    ].join('\n'),
});
