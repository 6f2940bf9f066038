/**
 * Reading a file that came with a clone set or lies in the library: such a file is untrusted (a
 * set can come from anyone), so only a regular file is read, never what a link leads to, never a
 * pipe or a device (which could block a reader forever or never end). The entry is looked at
 * without following it (lstat), opened with O_NOFOLLOW|O_NONBLOCK (a pipe swapped in after the
 * look neither blocks the open nor is read), checked again on the open descriptor (a regular
 * file, the same one), and read up to a size cap.
 */
import { formatBytes } from '../../common/format-bytes.js';
import { constants } from 'node:fs';
import { lstat, open, type FileHandle } from 'node:fs/promises';
import { AtlasError } from '../errors.js';
import { readExactly } from '../file-io.js';

/** Why an entry cannot be read as a regular file, or undefined when it can. */
function notRegular(st: {
  isFile(): boolean;
  isSymbolicLink(): boolean;
  isFIFO(): boolean;
  isDirectory(): boolean;
}) {
  if (st.isFile()) return undefined;
  if (st.isSymbolicLink()) return 'is a link (links are not followed)';
  if (st.isFIFO()) return 'is a pipe, not a file';
  if (st.isDirectory()) return 'is a folder, not a file';
  return 'is not a regular file';
}

function refusal(what: string, why: string): AtlasError {
  return new AtlasError(
    'bad-input',
    `${what} ${why}`,
    'use a clone set or image made by this app, with its files as they were written',
  );
}

/**
 * The regular file at `path`, opened for reading (O_NOFOLLOW|O_NONBLOCK) and checked on its
 * descriptor; `maxBytes` caps its size. Anything else rejects with 'bad-input' naming `what`; a
 * missing file with the ENOENT error as open would.
 */
export async function openRegularFile(
  path: string,
  what = path,
  maxBytes = Number.MAX_SAFE_INTEGER,
): Promise<FileHandle> {
  const before = await lstat(path);
  const why = notRegular(before);
  if (why) throw refusal(what, why);
  if (before.size > maxBytes) throw refusal(what, `is larger than ${formatBytes(maxBytes)}`);
  let fh;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP')
      throw refusal(what, 'is a link (links are not followed)');
    throw e;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.ino !== before.ino || st.dev !== before.dev)
      throw refusal(what, 'was replaced while it was opened');
    if (st.size > maxBytes) throw refusal(what, `is larger than ${formatBytes(maxBytes)}`);
    return fh;
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/**
 * The content of the regular file at `path`, at most `maxBytes`. A missing file rejects with
 * the ENOENT error as readFile would; anything but a regular file, or a larger one, with
 * 'bad-input' naming `what`.
 */
export async function readRegularFile(path: string, maxBytes: number, what = path): Promise<Buffer> {
  const fh = await openRegularFile(path, what, maxBytes);
  try {
    const buf = Buffer.alloc(Math.min((await fh.stat()).size, maxBytes) + 1);
    const got = await readExactly(fh, buf, 0);
    if (got > maxBytes) throw refusal(what, `is larger than ${formatBytes(maxBytes)}`);
    return buf.subarray(0, got);
  } finally {
    await fh.close();
  }
}
