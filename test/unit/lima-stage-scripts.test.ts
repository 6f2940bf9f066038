// The builder scripts are copied into the shared work dir for the VM (it cannot see the app's
// own lima/scripts): once per content, complete or not at all, and repaired when tampered with.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scriptsHash, stageScripts, STAGED_SCRIPTS_DIR } from '../../src-main/core/lima/stage-scripts.js';
import { ROOT } from '../helpers/fixtures.js';

const SCRIPTS = join(ROOT, 'lima', 'scripts');

describe('staging the builder scripts in the shared work dir', () => {
  it('copies every script of lima/scripts, executable, under a folder named by their content', async () => {
    const shared = mkdtempSync(join(tmpdir(), 'atlas-stage-'));
    const dir = await stageScripts(SCRIPTS, shared);
    const hash = await scriptsHash(SCRIPTS);
    expect(dir).toBe(join(shared, STAGED_SCRIPTS_DIR, hash!));
    const names = readdirSync(SCRIPTS)
      .filter((n) => n.endsWith('.sh'))
      .sort();
    expect(names).toContain('atlas-run.sh');
    expect(readdirSync(dir).sort()).toEqual(names);
    for (const n of names) {
      expect(readFileSync(join(dir, n), 'utf8')).toBe(readFileSync(join(SCRIPTS, n), 'utf8'));
      expect(statSync(join(dir, n)).mode & 0o777).toBe(0o755);
    }
    // Nothing half-written is left beside it.
    expect(readdirSync(join(shared, STAGED_SCRIPTS_DIR))).toEqual([hash]);
  });

  it('reuses an intact copy, replaces a tampered one, and makes a new folder for new scripts', async () => {
    const src = mkdtempSync(join(tmpdir(), 'atlas-src-'));
    writeFileSync(join(src, 'a.sh'), 'echo a\n');
    writeFileSync(join(src, 'notes.txt'), 'not a script\n');
    const shared = mkdtempSync(join(tmpdir(), 'atlas-stage-'));
    const first = await stageScripts(src, shared);
    const inode = statSync(join(first, 'a.sh')).ino;
    expect(await stageScripts(src, shared)).toBe(first);
    expect(statSync(join(first, 'a.sh')).ino).toBe(inode); // not copied again
    expect(readdirSync(first)).toEqual(['a.sh']);

    writeFileSync(join(first, 'a.sh'), 'rm -rf /\n');
    expect(await stageScripts(src, shared)).toBe(first);
    expect(readFileSync(join(first, 'a.sh'), 'utf8')).toBe('echo a\n');

    writeFileSync(join(src, 'a.sh'), 'echo a2\n');
    const second = await stageScripts(src, shared);
    expect(second).not.toBe(first);
    expect(readFileSync(join(second, 'a.sh'), 'utf8')).toBe('echo a2\n');
  });

  it('the hash covers names as well as contents', async () => {
    const a = mkdtempSync(join(tmpdir(), 'atlas-h-'));
    const b = mkdtempSync(join(tmpdir(), 'atlas-h-'));
    writeFileSync(join(a, 'x.sh'), 'same');
    writeFileSync(join(b, 'y.sh'), 'same');
    expect(await scriptsHash(a)).not.toBe(await scriptsHash(b));
    expect(await scriptsHash(join(a, 'missing'))).toBeUndefined();
    mkdirSync(join(a, 'sub.sh'));
    await expect(stageScripts(a, mkdtempSync(join(tmpdir(), 'atlas-stage-')))).rejects.toThrow();
  });
});
