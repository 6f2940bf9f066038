// Library actions on a real (small) library: copy to the archive with sha256 verification, stage
// one image at a time on the Desktop, delete only with a fresh confirmation ticket.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  writeFileSync,
  appendFileSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { startJob, type JobContext, type JobEvent } from '../../src-main/core/jobs/job.js';
import { archiveItem } from '../../src-main/app/archive.js';
import { stageImage } from '../../src-main/app/staging.js';
import { DeleteTickets, deleteItem } from '../../src-main/app/delete-tickets.js';
import { findItem, libraryView } from '../../src-main/app/library-view.js';
import { CLONE_IMAGE, GOLDEN, makeLibrary, SET, sha, type TestLibrary } from './ipc-library-fixture.js';

const run = <T>(fn: (ctx: JobContext) => Promise<T>) => startJob('test', fn).promise;

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string; hint?: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code: string; message: string; hint?: string };
  }
  throw new Error('expected a failure');
}

let lib: TestLibrary;
beforeEach(async () => {
  lib = await makeLibrary('ipc-library');
});

describe('archive', () => {
  it('copies a clone set file by file, every file checked against the manifest and read back', async () => {
    const entry = await findItem(lib.library, lib.set);
    const r = await run((ctx) => archiveItem(entry, lib.archive, ctx));
    expect(r.alreadyArchived).toBe(false);
    expect(r.dest).toBe(join(lib.archive, SET));
    expect(readdirSync(r.dest).sort()).toEqual(readdirSync(lib.set).sort());
    for (const f of readdirSync(lib.set)) expect(sha(join(r.dest, f))).toBe(sha(join(lib.set, f)));
    expect(r.files.map((f) => f.name).sort()).toEqual(readdirSync(lib.set).sort());
    expect(readdirSync(lib.archive).some((n) => n.endsWith('.partial'))).toBe(false);
  });

  it('copies an image with its manifest and block map; a second archive finds the same checksums and copies nothing', async () => {
    writeFileSync(`${lib.golden}.bmap`, '<bmap version="2.0"></bmap>\n');
    const entry = await findItem(lib.library, lib.golden);
    const first = await run((ctx) => archiveItem(entry, lib.archive, ctx));
    expect(sha(join(lib.archive, GOLDEN))).toBe(sha(lib.golden));
    expect(existsSync(join(lib.archive, `${GOLDEN}.manifest.json`))).toBe(true);
    expect(sha(join(lib.archive, `${GOLDEN}.bmap`))).toBe(sha(`${lib.golden}.bmap`));
    expect(first.files.map((f) => f.name)).toEqual([GOLDEN, `${GOLDEN}.manifest.json`, `${GOLDEN}.bmap`]);
    const mtime = statSync(join(lib.archive, GOLDEN)).mtimeMs;
    const second = await run((ctx) => archiveItem(entry, lib.archive, ctx));
    expect(second.alreadyArchived).toBe(true);
    expect(statSync(join(lib.archive, GOLDEN)).mtimeMs).toBe(mtime);
  });

  it('copies no link and no pipe out of a clone set, and leaves nothing in the archive', async () => {
    const secret = join(lib.library, '..', 'private-key');
    writeFileSync(secret, 'not for the archive');
    symlinkSync(secret, join(lib.set, 'notes.txt'));
    const entry = await findItem(lib.library, lib.set);
    const link = await failure(run((ctx) => archiveItem(entry, lib.archive, ctx)));
    expect(link).toMatchObject({ code: 'bad-input' });
    expect(link.message).toMatch(/notes\.txt is not a regular file \(a link\)/);
    expect(readdirSync(lib.archive)).toEqual([]);
    // A pipe would block the copy forever, and the job could not be cancelled.
    execFileSync('rm', [join(lib.set, 'notes.txt')]);
    execFileSync('mkfifo', [join(lib.set, 'pipe')]);
    const pipe = await failure(run((ctx) => archiveItem(entry, lib.archive, ctx)));
    expect(pipe.message).toMatch(/pipe is not a regular file \(a device, a pipe or a folder\)/);
    expect(readdirSync(lib.archive)).toEqual([]);
  });

  it('refuses a library image that no longer matches its manifest, leaving nothing in the archive', async () => {
    appendFileSync(lib.golden, 'bit rot');
    const entry = await findItem(lib.library, lib.golden);
    const e = await failure(run((ctx) => archiveItem(entry, lib.archive, ctx)));
    expect(e.code).toBe('verify-failed');
    expect(e.message).toMatch(/does not match the checksum in its manifest/);
    expect(readdirSync(lib.archive)).toEqual([]);
  });

  it('never overwrites a different copy in the archive', async () => {
    mkdirSync(lib.archive, { recursive: true });
    writeFileSync(join(lib.archive, GOLDEN), 'something else');
    const entry = await findItem(lib.library, lib.golden);
    const e = await failure(run((ctx) => archiveItem(entry, lib.archive, ctx)));
    expect(e.code).toBe('exists');
    expect(e.hint).toMatch(/never overwrites/);
  });

  it('says the archive disk is not connected when its volume is missing', async () => {
    const e = await failure(
      run(async (ctx) =>
        archiveItem(await findItem(lib.library, lib.golden), '/Volumes/NO_SUCH_VAULT/golden-atlas-img', ctx),
      ),
    );
    expect(e.code).toBe('not-found');
    expect(e.message).toMatch(/NO_SUCH_VAULT is not connected/);
    expect(e.hint).toMatch(/connect the archive disk/);
  });

  it('a cancelled archive leaves no partial copy', async () => {
    const entry = await findItem(lib.library, lib.set);
    const job = startJob('archive', (ctx) => archiveItem(entry, lib.archive, ctx), { progressIntervalMs: 0 });
    // Cancelled once the copy has begun: the first file's first bytes are in the partial copy.
    job.on('event', (e: JobEvent) => {
      if (e.type === 'progress') job.cancel();
    });
    await expect(job.promise).rejects.toMatchObject({ code: 'cancelled' });
    expect(readdirSync(lib.archive)).toEqual([]);
  });
});

describe('staging (one image at a time on the Desktop)', () => {
  it('stages an image, then replaces it by the next one when it is a copy of a library image', async () => {
    const first = await run(async (ctx) =>
      stageImage(await findItem(lib.library, lib.golden), lib.library, lib.desktop, ctx),
    );
    expect(first.replaced).toBeNull();
    expect(sha(join(lib.desktop, GOLDEN))).toBe(sha(lib.golden));
    const second = await run(async (ctx) =>
      stageImage(await findItem(lib.library, lib.cloneImage), lib.library, lib.desktop, ctx),
    );
    expect(second.replaced).toBe(join(lib.desktop, GOLDEN));
    expect(readdirSync(lib.desktop)).toEqual([CLONE_IMAGE]);
  });

  it('never removes an image that exists only on the Desktop', async () => {
    writeFileSync(join(lib.desktop, 'ods-atlas-golden-v1-0-0-OLD.img'), 'only copy');
    const e = await failure(
      run(async (ctx) => stageImage(await findItem(lib.library, lib.golden), lib.library, lib.desktop, ctx)),
    );
    expect(e.code).toBe('exists');
    expect(e.message).toMatch(/is not in the library/);
    expect(readdirSync(lib.desktop)).toEqual(['ods-atlas-golden-v1-0-0-OLD.img']);
  });

  it('never removes a staged file that differs from its library namesake', async () => {
    writeFileSync(join(lib.desktop, CLONE_IMAGE), Buffer.alloc(2 * 1024 * 1024, 1));
    const e = await failure(
      run(async (ctx) => stageImage(await findItem(lib.library, lib.golden), lib.library, lib.desktop, ctx)),
    );
    expect(e.message).toMatch(/another checksum/);
    expect(existsSync(join(lib.desktop, CLONE_IMAGE))).toBe(true);
  });

  it('stages images only, not clone sets', async () => {
    const e = await failure(
      run(async (ctx) => stageImage(await findItem(lib.library, lib.set), lib.library, lib.desktop, ctx)),
    );
    expect(e.code).toBe('unsupported');
  });
});

describe('delete with a confirmation ticket', () => {
  it('deletes only with a fresh ticket for the same item, once', async () => {
    const tickets = new DeleteTickets();
    const entry = await findItem(lib.library, lib.golden);
    const ticket = tickets.issue(entry);
    expect(ticket.question).toMatch(/Delete ods-atlas-golden-v9-1-7-ORIGIN.img .* cannot be undone/);
    expect(() => tickets.redeem(lib.cloneImage, ticket.token)).toThrow(/not confirmed/);
    // A ticket is used up even by a failed attempt.
    expect(() => tickets.redeem(lib.golden, ticket.token)).toThrow(/not confirmed/);
    const fresh = tickets.issue(entry);
    tickets.redeem(lib.golden, fresh.token);
    writeFileSync(`${lib.golden}.bmap`, 'map');
    await deleteItem(entry);
    expect(existsSync(lib.golden)).toBe(false);
    expect(existsSync(`${lib.golden}.manifest.json`)).toBe(false);
    expect(existsSync(`${lib.golden}.bmap`)).toBe(false);
  });

  it('deletes a distributable with its manifest, the .img.bmap and the .sha256, and nothing else', async () => {
    const zst = join(lib.library, 'ods-atlas-clone-v9-2-0-DIST.img.zst');
    const bmap = join(lib.library, 'ods-atlas-clone-v9-2-0-DIST.img.bmap');
    for (const f of [zst, bmap, `${zst}.sha256`, `${zst}.manifest.json`]) writeFileSync(f, 'x');
    const before = readdirSync(lib.library).filter((n) => !n.includes('DIST'));
    const entry = await findItem(lib.library, zst);
    expect(entry).toMatchObject({ kind: 'clone-image', phase: 2, version: '9.2.0', tag: 'DIST' });
    await deleteItem(entry);
    expect(readdirSync(lib.library)).toEqual(before);
  });

  it('refuses an expired ticket', async () => {
    let now = 1000;
    const tickets = new DeleteTickets(() => now);
    const ticket = tickets.issue(await findItem(lib.library, lib.set));
    now += 121_000;
    expect(() => tickets.redeem(lib.set, ticket.token)).toThrow(/expired/);
  });

  it('removes a clone set folder', async () => {
    await deleteItem(await findItem(lib.library, lib.set));
    expect(existsSync(lib.set)).toBe(false);
  });
});

describe('the library view', () => {
  it('lists every artifact with phase, version and tag, and where copies are', async () => {
    await run(async (ctx) =>
      stageImage(await findItem(lib.library, lib.golden), lib.library, lib.desktop, ctx),
    );
    await run(async (ctx) => archiveItem(await findItem(lib.library, lib.set), lib.archive, ctx));
    writeFileSync(join(lib.library, 'golden-clone-v9-9-9-X.partial'), '');
    const view = await libraryView({
      library: lib.library,
      archiveDir: lib.archive,
      stagingDir: lib.desktop,
    });
    expect(view.items.map((i) => [i.name, i.phase, i.version, i.tag, i.archived, i.staged])).toEqual([
      [SET, 1, '8.0.6', 'FLASH', true, false],
      [CLONE_IMAGE, 2, '9.1.7', 'FLASH', false, false],
      [GOLDEN, 0, '9.1.7', 'ORIGIN', false, true],
    ]);
    expect(view.items.find((i) => i.name === GOLDEN)?.sha256).toBe(sha(lib.golden));
    expect(view.unfinished).toEqual(['golden-clone-v9-9-9-X.partial']);
    expect(view.archive).toEqual({ dir: lib.archive, available: true });
    expect(view.staging).toEqual({ dir: lib.desktop, staged: GOLDEN });
  });

  it('refuses to act on anything that is not a library item', async () => {
    await expect(findItem(lib.library, '/etc/passwd')).rejects.toMatchObject({ code: 'not-found' });
    await expect(findItem(lib.library, join(lib.library, 'scripts'))).rejects.toMatchObject({
      code: 'not-found',
    });
  });
});
