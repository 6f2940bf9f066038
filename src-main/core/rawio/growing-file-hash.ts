/**
 * sha256 of a file while another process writes it from start to end (a builder script's
 * compressed image): what has landed is read and hashed as it grows, so when the writer is done
 * only its last bytes are left to read, instead of the whole file again. The bytes hashed are the
 * ones on this host's disk, read back here, as a hash after the write would read them. Only for
 * files written in one sequential pass (a pipeline's `> FILE`): nothing may rewrite what was read.
 */
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledError } from '../errors.js';

const CHUNK = 4 * 1024 * 1024;
const POLL_MS = 100;

export interface GrowingHash {
  /** Resolves once `writerDone` has settled and the file is read to its end (undefined if it never appeared). */
  result: Promise<{ bytes: number; sha256: string } | undefined>;
}

/** Follows `path` until `writerDone` settles (either way), then reads it to its end. */
export function hashWhileWritten(
  path: string,
  writerDone: Promise<unknown>,
  signal: AbortSignal,
): GrowingHash {
  let finished = false;
  const settled = writerDone.then(
    () => (finished = true),
    () => (finished = true),
  );
  const result = (async () => {
    let fh: FileHandle | undefined;
    try {
      while (!fh) {
        const last = finished;
        fh = await open(path, 'r').catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'ENOENT') throw e;
          return undefined;
        });
        if (!fh && last) return undefined;
        if (!fh) await Promise.race([sleep(POLL_MS), settled]);
      }
      const hash = createHash('sha256');
      const buf = Buffer.allocUnsafe(CHUNK);
      let at = 0;
      for (;;) {
        if (signal.aborted) throw new CancelledError();
        // Read to the current end; once the writer is done, one more pass reaches the real end.
        const last = finished;
        const { bytesRead } = await fh.read(buf, 0, CHUNK, at);
        if (bytesRead > 0) {
          hash.update(buf.subarray(0, bytesRead));
          at += bytesRead;
          continue;
        }
        if (last) break;
        await Promise.race([sleep(POLL_MS), settled]);
      }
      return { bytes: at, sha256: hash.digest('hex') };
    } finally {
      await fh?.close();
    }
  })();
  result.catch(() => undefined);
  return { result };
}
