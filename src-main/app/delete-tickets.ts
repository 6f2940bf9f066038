/**
 * Deleting a library item takes two requests: the first returns a ticket (a one-time token and
 * the question to show), the second deletes, and only with a fresh ticket for that same item.
 * A renderer bug or a stray click can therefore never delete anything on its own.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { AtlasError } from '../core/errors.js';
import type { LibraryEntry } from '../core/library/library.js';
import { manifestPathFor } from '../core/library/manifest.js';
import { imageSidecars } from '../core/naming.js';
import type { DeleteTicket } from '../common/contract.js';
import { formatBytes } from '../common/format-bytes.js';

const TTL_MS = 120_000;

function gb(bytes: number): string {
  return formatBytes(bytes, { unit: 'GB', digits: 2 });
}

export class DeleteTickets {
  private readonly open = new Map<string, { path: string; expires: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  issue(entry: LibraryEntry): DeleteTicket {
    const token = randomBytes(16).toString('hex');
    this.open.set(token, { path: entry.path, expires: this.now() + TTL_MS });
    const what =
      entry.kind === 'clone-set'
        ? 'the clone set and all its files'
        : 'the image, its manifest and block map';
    return {
      token,
      path: entry.path,
      name: entry.name,
      kind: entry.kind,
      bytes: entry.bytes,
      question: `Delete ${entry.name} (${gb(entry.bytes)}) from the library? This removes ${what}; it cannot be undone.`,
      expiresInSeconds: TTL_MS / 1000,
    };
  }

  /** Uses up the ticket; throws unless it was issued for `path` and is still valid. */
  redeem(path: string, token: string): void {
    const t = this.open.get(token);
    this.open.delete(token);
    if (!t || t.path !== path || t.expires < this.now()) {
      throw new AtlasError(
        'bad-input',
        'this delete was not confirmed (or the confirmation expired)',
        'choose Delete again and confirm it',
      );
    }
  }
}

/** Removes a library item: an image with its manifest and block map, or a clone set folder. */
export async function deleteItem(entry: LibraryEntry): Promise<void> {
  if (entry.kind === 'clone-set') {
    await rm(entry.path, { recursive: true });
  } else {
    await rm(manifestPathFor(entry.path, entry.kind), { force: true });
    const side = imageSidecars(entry.path);
    await rm(side.bmap, { force: true });
    await rm(side.sha256, { force: true });
    await rm(entry.path);
  }
}
