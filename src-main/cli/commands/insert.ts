/** `ods-sd insert`: Phase 0, a base image and the payload become a golden image. */
import { insert } from '../../core/phases/insert.js';
import { defineCommand } from '../command.js';

export const insertCommand = defineCommand({
  name: 'insert',
  summary: 'Phase 0: base Armbian image + payload -> ods-atlas-golden-vX-Y-Z-TAG.img',
  positionals: [{ name: 'base', label: 'BASE' }],
  options: {
    payload: {
      type: 'string',
      arg: 'DIR',
      required: true,
      help: 'the ods-player-os-atlas checkout, or its scripts/ folder',
    },
    version: { type: 'string', arg: 'X.Y.Z', required: true, help: 'the version in the image name' },
    tag: { type: 'string', arg: 'TAG', required: true, help: 'the tag in the image name' },
    secrets: {
      type: 'string',
      arg: 'FILE',
      help: 'atlas_secrets.conf (default: the one beside the payload, else the one kept in the library)',
    },
    'out-dir': { type: 'string', arg: 'DIR', help: 'where the image goes (default: the library)' },
  },
  run: async ({ args, options, env, job }) =>
    insert(
      await env(),
      {
        base: args.base,
        payload: options.payload,
        version: options.version,
        tag: options.tag,
        ...(options.secrets ? { secrets: options.secrets } : {}),
        ...(options['out-dir'] ? { outDir: options['out-dir'] } : {}),
      },
      job,
    ),
  human: (x) =>
    [
      `Golden image (Phase 0): ${x.image}`,
      `  sha256 ${x.sha256}`,
      ...x.injected.map((i) => `  injected ${i.path} (${i.what})`),
    ].join('\n'),
});
