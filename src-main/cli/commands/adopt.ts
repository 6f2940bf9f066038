/** `ods-sd adopt`: a clone set elsewhere (tools/ods-sd's clones/NAME/) copied into the library. */
import { adoptSet } from '../../core/phases/set-elsewhere.js';
import { defineCommand } from '../command.js';
import { bytes } from '../format.js';

export const adoptCommand = defineCommand({
  name: 'adopt',
  summary:
    'a clone set elsewhere (a path, or a name from ods-sd list) -> golden-clone-NAME/ in the library, checked, with checksums; the original is left as it was',
  positionals: [
    { name: 'set', label: 'PATH' },
    { name: 'name', label: 'NAME', optional: true },
  ],
  options: {},
  run: async ({ args, env, job }) =>
    adoptSet(await env(), { set: args.set, ...(args.name ? { name: args.name } : {}) }, job),
  human: (x) =>
    [
      `Adopted ${x.from} as ${x.dir} (the original is unchanged)`,
      ...x.files.map((f) => `  ${f.name.padEnd(24)} ${bytes(f.bytes).padStart(9)}  ${f.sha256}`),
    ].join('\n'),
});
