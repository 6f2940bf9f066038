/** `ods-sd secrets import FILE | status`: atlas_secrets.conf kept in the library, 0600, never in git. */
import { AtlasError } from '../../core/errors.js';
import { importSecrets, secretsStatus } from '../../core/secrets/secrets-file.js';
import { defineCommand } from '../command.js';

export const secretsCommand = defineCommand({
  name: 'secrets',
  summary: 'keep atlas_secrets.conf in the library (0600, never in git); only its setting names are shown',
  positionals: [
    { name: 'action', label: 'import|status' },
    { name: 'file', label: 'FILE', optional: true },
  ],
  options: {},
  run: async ({ args, env }) => {
    const { library } = await env();
    if (args.action === 'import' && args.file) return importSecrets(args.file, library);
    if (args.action === 'status' && !args.file) return secretsStatus(library);
    throw new AtlasError(
      'usage',
      'secrets takes "import FILE" or "status"',
      'ods-sd secrets import ~/atlas_secrets.conf',
    );
  },
  human: (x) => {
    if (!x.present) return `No secrets yet: ods-sd secrets import FILE (kept at ${x.path}, mode 0600)`;
    return [
      `Secrets: ${x.path} (mode ${x.mode})`,
      `  settings: ${x.keys.join(', ')}`,
      ...(x.tooOpen ? [`  warning: readable by other users: chmod 600 ${x.path}`] : []),
    ].join('\n');
  },
});
