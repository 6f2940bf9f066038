// A card whose firstboot installed the Plymouth theme as the user's atlas_firstboot.sh does today
// (brand/splash/generated/ is gone from their repo, so only ods.plymouth is written): verify keeps
// failing "Plymouth theme" and shrink stays blocked, but both say which folder, how many files, what
// the checklist expects and what to do; a checklist with a lower threshold then passes.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { odsSd } from '../helpers/cli.js';
import { copyFixture, fixture, ROOT, scratch } from '../helpers/fixtures.js';
import { withPartition } from '../helpers/disk-tools.js';
import { setCountThreshold } from '../../src-main/core/checklist/thresholds.js';

const THEME = '/usr/share/plymouth/themes/ods';
const WHY = `Plymouth theme: ${THEME} holds 1 file (subfolders included); the checklist expects at least 138`;

describe('a Plymouth theme of one file', () => {
  let dir: string;
  let card: string;

  beforeAll(() => {
    dir = scratch('plymouth-one');
    card = copyFixture(fixture('provisioned'), dir, 'card.img');
    const ls = withPartition(card, 2, (dev) =>
      execFileSync('debugfs', ['-R', `ls -p ${THEME}`, dev], { encoding: 'utf8' }),
    );
    const names = ls
      .split('\n')
      .map((l) => l.split('/')[5])
      .filter((n): n is string => !!n && n !== '.' && n !== '..' && n !== 'ods.plymouth');
    expect(names.length).toBe(137);
    const cmds = join(dir, 'rm.debugfs');
    writeFileSync(cmds, names.map((n) => `rm ${THEME}/${n}\n`).join(''));
    withPartition(
      card,
      2,
      (dev) => execFileSync('debugfs', ['-w', '-f', cmds, dev], { stdio: 'pipe' }),
      true,
    );
  });

  it('verify fails and says why and what to do', async () => {
    const r = await odsSd(['verify', card]);
    expect(r.code).toBe(1);
    const theme = r.json.result.checks.find((c: { id: string }) => c.id === 'plymouth-theme');
    expect(theme).toMatchObject({
      ok: false,
      shortfall: { path: THEME, found: 1, min: 138, recursive: true },
    });
    expect(
      r.json.result.checks.filter((c: { ok: boolean }) => !c.ok).map((c: { id: string }) => c.id),
    ).toEqual(['plymouth-theme']);
    expect(r.json.error?.message).toContain(WHY);
    expect(r.json.error?.hint).toContain('--force');
    expect(r.json.error?.hint).toContain(
      `lower the threshold of check "plymouth-theme": copy ${join(ROOT, 'resources', 'verify-checklist.json')}`,
    );
  });

  it('shrink is blocked with the same words', async () => {
    const r = await odsSd([
      'shrink',
      card,
      '--version',
      '1.0.0',
      '--tag',
      'T',
      '--library',
      join(dir, 'lib'),
    ]);
    expect(r.code).toBe(1);
    expect(r.json.error).toMatchObject({ code: 'checklist-failed' });
    expect(r.json.error?.message).toBe(`the Phase 1 checklist failed (${WHY}): not shrinking`);
  });

  it('a checklist with the threshold lowered passes', async () => {
    const list = JSON.parse(readFileSync(join(ROOT, 'resources', 'verify-checklist.json'), 'utf8'));
    list.checks.find((c: { id: string }) => c.id === 'plymouth-theme').rule.min = 1;
    const mine = join(dir, 'my-checklist.json');
    writeFileSync(mine, JSON.stringify(list));
    const r = await odsSd(['verify', card, '--checklist', mine]);
    expect(r.code, r.stderr).toBe(0);
  });

  it("a threshold changed in the app (the library's own checklist) is used by verify", async () => {
    const lib = join(dir, 'lib-own');
    mkdirSync(lib);
    await setCountThreshold(lib, join(ROOT, 'resources', 'verify-checklist.json'), 'plymouth-theme', 1);
    const r = await odsSd(['verify', card, '--library', lib]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.result.checklistFile).toBe(join(lib, 'verify-checklist.json'));
  });
});
