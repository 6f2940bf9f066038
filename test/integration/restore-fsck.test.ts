// Restore of a clone whose root file system e2fsck -y has to repair says what it changed.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { odsSd } from '../helpers/cli.js';
import { copyFixture, fixture, removeScratch, scratch } from '../helpers/fixtures.js';
import { e2fsckClean, withPartition } from '../helpers/disk-tools.js';

afterAll(() => removeScratch());

describe('ods-sd restore of a file system e2fsck repairs', () => {
  it('reports what e2fsck changed, in the job log and the result', async () => {
    const dir = scratch('restore-fsck');
    const lib = join(dir, 'lib');
    const source = copyFixture(fixture('provisioned'), dir, 'dev-card.img');
    // A wrong link count on a file (partclone copies the blocks as they are; e2fsck -y fixes it).
    withPartition(
      source,
      2,
      (dev) =>
        execFileSync('debugfs', ['-w', '-R', 'sif /etc/os-release links_count 3', dev], { stdio: 'ignore' }),
      true,
    );
    expect(e2fsckClean(source).output).toMatch(/ref count is 3, should be 1/);
    const c = await odsSd(['clone', source, 'v1-0-0-FSCK', '--library', lib]);
    expect(c.code, c.stderr).toBe(0);
    const card = join(dir, 'new-card.img');
    writeFileSync(card, '');
    execFileSync('truncate', ['-s', String(1024 * 1024 * 1024), card]);
    const r = await odsSd(['restore', card, 'v1-0-0-FSCK', '--library', lib, '--yes', '--verbose']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/e2fsck changed the restored root file system: .*ref count is 3, should be 1/);
    expect(r.json.result.fsckFixed).toEqual([
      expect.stringMatching(/^restored root: .*ref count is 3, should be 1/),
    ]);
    expect(e2fsckClean(card).code).toBe(0);
  });
});
