/**
 * What Insert will inject, checked before it runs: the user's ods-player-os-atlas checkout (its
 * scripts/ folder) or a payload folder with atlas_firstboot.sh and atlas-firstboot.service, and
 * the secrets: the copy imported into the app (encrypted), else atlas_secrets.conf beside the
 * payload or in the library. Only the names of the secrets' settings are read out, never values.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { resolvePayload, resolveSecrets } from '../core/phases/insert.js';
import { AtlasError, toAtlasError } from '../core/errors.js';
import { secretKeysOf } from '../core/secrets/secrets-file.js';
import type { SecretVault } from '../core/secrets/secret-vault.js';
import type { ErrorInfo, PayloadStatus } from '../common/contract.js';

const FILES = ['atlas_firstboot.sh', 'atlas-firstboot.service'];

async function isFile(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
}

async function findSecrets(
  vault: SecretVault,
  payloadDir: string,
  library: string,
): Promise<PayloadStatus['secrets']> {
  const imported = await vault.status();
  if (imported.damaged) {
    throw new AtlasError(
      'bad-input',
      'the imported atlas_secrets.conf cannot be read',
      'import it again with "Replace secrets…", or "Forget secrets" to use a plain file',
    );
  }
  let path: string | null = null;
  let where = 'imported (encrypted)';
  let keys = imported.keys;
  if (!imported.stored) {
    path = await resolveSecrets(undefined, payloadDir, library).catch((e: unknown) => {
      throw new AtlasError('not-found', 'no atlas_secrets.conf imported or found', undefined, {
        cause: e,
        next: [{ do: 'give-secrets', path: join(library, 'scripts', 'atlas_secrets.conf') }],
      });
    });
    where = path.startsWith(payloadDir) ? 'beside the payload' : 'in the library';
    keys = [...new Set(secretKeysOf(await readFile(path, 'utf8'), path))].sort();
  }
  // Without ROOT_PASSWORD the image keeps Armbian's root password: shown, not blocking.
  return { found: true, path, where, keys, hasRootPassword: keys.includes('ROOT_PASSWORD') };
}

export async function checkPayload(dir: string, vault: SecretVault, library: string): Promise<PayloadStatus> {
  const problems: ErrorInfo[] = [];
  let payloadDir: string | null = null;
  try {
    payloadDir = await resolvePayload(dir);
  } catch (e) {
    problems.push(toAtlasError(e).toJSON());
  }
  const where = payloadDir ?? ((await isFile(join(dir, 'scripts', FILES[0]!))) ? join(dir, 'scripts') : dir);
  const files = await Promise.all(
    FILES.map(async (name) => ({ name, path: join(where, name), found: await isFile(join(where, name)) })),
  );

  let secrets: PayloadStatus['secrets'] = {
    found: false,
    path: null,
    where: 'not found',
    keys: [],
    hasRootPassword: false,
  };
  try {
    secrets = await findSecrets(vault, payloadDir ?? dir, library);
  } catch (e) {
    problems.push(toAtlasError(e).toJSON());
  }

  return {
    dir,
    payloadDir,
    layout: payloadDir === null ? null : payloadDir === dir ? 'folder' : 'checkout',
    files,
    secrets,
    ready: payloadDir !== null && secrets.found,
    problems,
  };
}
