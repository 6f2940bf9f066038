/**
 * What Insert will inject, checked before it runs: the user's ods-player-os-atlas checkout (its
 * scripts/ folder) or a payload folder with atlas_firstboot.sh and atlas-firstboot.service, and
 * the secrets file. Only the names of the secrets' settings are read out, never their values.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { resolvePayload, resolveSecrets } from '../core/phases/insert.js';
import { toAtlasError } from '../core/errors.js';
import type { ErrorInfo, PayloadStatus } from './contract.js';

const FILES = ['atlas_firstboot.sh', 'atlas-firstboot.service'];

async function isFile(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** Names of the KEY=value settings in a secrets file. */
export async function secretKeys(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const keys = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=/.exec(line);
    if (m) keys.add(m[1]!);
  }
  return [...keys].sort();
}

export async function checkPayload(
  dir: string,
  secretsFile: string | null,
  library: string,
): Promise<PayloadStatus> {
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

  const secrets: PayloadStatus['secrets'] = {
    found: false,
    path: null,
    where: 'not found',
    keys: [],
    hasRootPassword: false,
  };
  try {
    const path = await resolveSecrets(secretsFile ?? undefined, payloadDir ?? dir, library);
    secrets.found = true;
    secrets.path = path;
    secrets.where = secretsFile
      ? 'chosen'
      : path.startsWith(payloadDir ?? dir)
        ? 'beside the payload'
        : 'in the library';
    secrets.keys = await secretKeys(path);
    // Without ROOT_PASSWORD the image keeps Armbian's root password: shown, not blocking.
    secrets.hasRootPassword = secrets.keys.includes('ROOT_PASSWORD');
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
