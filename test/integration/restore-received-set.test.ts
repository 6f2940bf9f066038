// A clone set received from someone else, restored for real as root: its partclone headers are
// read before anything is decompressed, so a card too small for the root's data and a work folder
// without room for it are refused at once (by the app and by the set's own restore_golden.sh);
// and a link in the set is refused before anything is read, quoting nothing of what it leads to.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { odsSd } from '../helpers/cli.js';
import { copyFixture, fixture, removeScratch, scratch } from '../helpers/fixtures.js';
import { makeFile, sha256 } from '../helpers/disk-tools.js';

const MiB = 1024 * 1024;
const FIT_STEP = 'into the work folder';

describe('restore of a received clone set', () => {
  let dir: string;
  let lib: string;
  let set: string;

  beforeAll(async () => {
    dir = scratch('restore-received');
    lib = join(dir, 'atlas-build');
    // The clone's card: 4 MiB + 512 MiB boot + 160 MiB root, about 57 MiB of root data.
    const source = copyFixture(fixture('provisioned', { fillMiB: 24 }), dir, 'dev-card.img');
    const r = await odsSd(['clone', source, 'v8-1-0-RECEIVED', '--library', lib]);
    expect(r.code, r.stderr).toBe(0);
    set = join(lib, 'golden-clone-v8-1-0-RECEIVED');
  });
  afterAll(() => removeScratch());

  it('refuses a card too small for the root data from the partclone header, before decompressing', async () => {
    // 560 MiB: the root starts at 516 MiB, so 44 MiB are left for about 57 MiB of data.
    const card = makeFile(join(dir, 'tiny-card.img'), 560 * MiB, [[0, 1, 'random']]);
    const before = sha256(card);
    const r = await odsSd(['restore', card, 'v8-1-0-RECEIVED', '--library', lib, '--yes']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.json.error?.code).toBe('too-small');
    expect(r.json.error?.message).toMatch(
      /the data needs at least \d+ .*partclone header.*nothing was written/,
    );
    expect(r.stderr).not.toContain(FIT_STEP);
    expect(sha256(card)).toBe(before);

    const s = spawnSync('bash', [join(set, 'restore_golden.sh'), card], { encoding: 'utf8' });
    expect(s.status, s.stderr).toBe(2);
    expect(s.stdout).toMatch(/@@ATLAS fail too-small .*partclone header/);
    expect(s.stdout).not.toContain(FIT_STEP);
    expect(sha256(card)).toBe(before);
    expect(readdirSync(lib).filter((f) => f.startsWith('.atlas-restore'))).toEqual([]);
  });

  describe('with a work folder on a small file system', () => {
    let small: string;
    beforeAll(() => {
      small = join(dir, 'small-fs');
      mkdirSync(small);
      // Room for the set (about 30 MB) and 24 MiB more: less than the root's data.
      const setBytes = Number(execFileSync('du', ['-sb', set], { encoding: 'utf8' }).split('\t')[0]);
      const size = Math.ceil((setBytes + 24 * MiB) / MiB);
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}m,mode=0700`, 'tmpfs', small]);
    });
    afterAll(() => {
      execFileSync('umount', [small]);
    });

    it('the app refuses at once, nothing decompressed into the library', async () => {
      const smallLib = join(small, 'atlas-build');
      mkdirSync(smallLib, { mode: 0o700 });
      cpSync(set, join(smallLib, 'golden-clone-v8-1-0-RECEIVED'), { recursive: true });
      const freeBefore = Number(
        execFileSync('df', ['--output=avail', '-B1', small], { encoding: 'utf8' }).split('\n')[1],
      );
      const card = makeFile(join(dir, 'fit-card.img'), 600 * MiB, [[0, 1, 'random']]);
      const before = sha256(card);
      const r = await odsSd(['restore', card, 'v8-1-0-RECEIVED', '--library', smallLib, '--yes']);
      expect(r.code, r.stderr).toBe(1);
      expect(r.json.error?.code).toBe('no-space');
      expect(r.json.error?.message).toMatch(/partclone header.*nothing was decompressed or written/);
      expect(r.stderr).not.toContain(FIT_STEP);
      expect(sha256(card)).toBe(before);
      const freeAfter = Number(
        execFileSync('df', ['--output=avail', '-B1', small], { encoding: 'utf8' }).split('\n')[1],
      );
      expect(freeAfter).toBe(freeBefore);
      rmSync(smallLib, { recursive: true, force: true });
    });

    it("the set's own script refuses at once, before decompressing into the work folder", () => {
      const card = makeFile(join(dir, 'fit-card-2.img'), 600 * MiB, [[0, 1, 'random']]);
      const before = sha256(card);
      const s = spawnSync('bash', [join(set, 'restore_golden.sh'), card, '--work-dir', small], {
        encoding: 'utf8',
      });
      expect(s.status, s.stderr).toBe(1);
      expect(s.stdout).toMatch(
        /@@ATLAS fail no-space .*partclone header.*nothing was decompressed or written/,
      );
      expect(s.stdout).not.toContain(FIT_STEP);
      expect(sha256(card)).toBe(before);
      expect(readdirSync(small)).toEqual([]);
    });
  });

  it('refuses a link in the set before reading it, and quotes nothing of its target', async () => {
    const secret = join(dir, 'shadow');
    writeFileSync(secret, 'root:$y$j9T$SECRETSALT$SECRETHASH:19000:0:99999:7:::\n');
    const linked = join(lib, 'golden-clone-v8-1-0-LINKED');
    cpSync(set, linked, { recursive: true });
    rmSync(join(linked, 'partition-table.dump'));
    symlinkSync(secret, join(linked, 'partition-table.dump'));
    const card = makeFile(join(dir, 'link-card.img'), 1024 * MiB, [[0, 1, 'random']]);
    const before = sha256(card);

    const r = await odsSd(['restore', card, 'v8-1-0-LINKED', '--library', lib, '--yes']);
    expect(r.code).toBe(2);
    expect(r.json.error).toMatchObject({ code: 'bad-input' });
    expect(r.json.error?.message).toMatch(/partition-table.dump is a link/);
    expect(r.stdout + r.stderr).not.toContain('SECRET');
    expect(sha256(card)).toBe(before);

    const s = spawnSync('bash', [join(linked, 'restore_golden.sh'), card], { encoding: 'utf8' });
    expect(s.status).toBe(2);
    expect(s.stderr).toMatch(/partition-table.dump is a link/);
    expect(s.stdout + s.stderr).not.toContain('SECRET');
    expect(sha256(card)).toBe(before);
    expect(existsSync(secret)).toBe(true);
  });
});
