/**
 * `openssl dgst -sha256`: a whole file's sha256 in another process, at OpenSSL's speed, while this
 * one does other work (macOS ships openssl as LibreSSL; Debian and Ubuntu as OpenSSL). Where it is
 * missing or fails, undefined: the caller hashes in this process.
 */
import { AtlasError, CancelledError } from '../errors.js';
import { runTool } from './run-tool.js';

/** The sha256 of the file at `path` (absolute), or undefined when openssl cannot give it. */
export async function opensslSha256(path: string, signal?: AbortSignal): Promise<string | undefined> {
  if (!path.startsWith('/')) throw new AtlasError('bad-input', `not an absolute path: ${path}`);
  try {
    // -r: "HASH *PATH", the coreutils form, in both OpenSSL and LibreSSL.
    const r = await runTool('openssl', ['dgst', '-sha256', '-r', path], signal ? { signal } : {});
    const hash = /^([0-9a-f]{64}) \*/.exec(r.stdout)?.[1];
    return r.exitCode === 0 ? hash : undefined;
  } catch (e) {
    if (e instanceof CancelledError) throw e;
    if (e instanceof AtlasError && e.code === 'missing-tool') return undefined;
    throw e;
  }
}
