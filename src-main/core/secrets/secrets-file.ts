/**
 * atlas_secrets.conf for the command line: imported once into <library>/scripts/ (the seed's
 * place on jdl-mini-box, never a git checkout), as a 0600 file in a 0700 folder. Only the names
 * of its settings are ever shown; the values never reach a log or an output.
 */
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AtlasError } from '../errors.js';

export const SECRETS_NAME = 'atlas_secrets.conf';

export function secretsPath(library: string): string {
  return join(library, 'scripts', SECRETS_NAME);
}

const LINE = /^\s*(#.*)?$|^\s*(export\s+)?([A-Za-z_][A-Za-z0-9_]*)=/;

/** The setting names of a secrets file; refuses anything that is not KEY=value lines. */
export function secretKeysOf(text: string, source: string): string[] {
  const keys: string[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    const m = LINE.exec(line);
    if (!m) {
      throw new AtlasError(
        'bad-input',
        `${source} line ${i + 1} is not a KEY="value" setting`,
        'atlas_secrets.conf holds shell settings such as ROOT_PASSWORD="…", one per line',
      );
    }
    if (m[3]) keys.push(m[3]);
  }
  if (keys.length === 0)
    throw new AtlasError('bad-input', `${source} has no settings`, 'is it atlas_secrets.conf?');
  return keys;
}

/** `ROOT_PASSWORD=`, `ROOT_PASSWORD=""` or `''`, maybe exported, maybe with a comment after it. */
const EMPTY_ROOT_PASSWORD = /^\s*(export\s+)?ROOT_PASSWORD=(""|'')?\s*(#.*)?$/;

/**
 * Refuses a secrets file that sets ROOT_PASSWORD to nothing: Insert would stop on it later, after
 * the base image was copied; it is said at import instead.
 */
export function refuseEmptyRootPassword(text: string, source: string): void {
  const i = text.split('\n').findIndex((line) => EMPTY_ROOT_PASSWORD.test(line));
  if (i >= 0) {
    throw new AtlasError(
      'bad-input',
      `${source} line ${i + 1} sets ROOT_PASSWORD to nothing`,
      'write the root password as ROOT_PASSWORD="…", or leave the line out to keep the base image\'s password',
    );
  }
}

export interface SecretsStatus {
  path: string;
  present: boolean;
  /** Octal file mode, e.g. "600". */
  mode?: string;
  keys: string[];
  /** Readable by others than its owner: a warning to show. */
  tooOpen: boolean;
}

export async function importSecrets(source: string, library: string): Promise<SecretsStatus> {
  let text: string;
  try {
    text = await readFile(source, 'utf8');
  } catch {
    throw new AtlasError('not-found', `no secrets file at ${source}`);
  }
  return importSecretsText(text, source, library);
}

/**
 * Keeps a secrets file's content (read from elsewhere: inside the VM) in the library, checked as
 * `importSecrets` checks a file; `source` names where it came from in errors, never the content.
 */
export async function importSecretsText(
  text: string,
  source: string,
  library: string,
): Promise<SecretsStatus> {
  secretKeysOf(text, source);
  refuseEmptyRootPassword(text, source);
  const dest = secretsPath(library);
  await mkdir(join(library, 'scripts'), { recursive: true, mode: 0o700 });
  await chmod(join(library, 'scripts'), 0o700);
  const tmp = `${dest}.partial`;
  await writeFile(tmp, text, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, dest);
  return secretsStatus(library);
}

export async function secretsStatus(library: string): Promise<SecretsStatus> {
  const path = secretsPath(library);
  const st = await stat(path).catch(() => undefined);
  if (!st) return { path, present: false, keys: [], tooOpen: false };
  const keys = secretKeysOf(await readFile(path, 'utf8'), path);
  return { path, present: true, mode: (st.mode & 0o777).toString(8), keys, tooOpen: (st.mode & 0o077) !== 0 };
}
