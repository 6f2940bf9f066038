import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureLibraryDir, ensureOutputDir, makeOwnerOnly } from '../../src-main/core/library/owner-only.js';
import type { JobContext } from '../../src-main/core/jobs/job.js';

const dir = mkdtempSync(join(tmpdir(), 'owner-only-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const mode = (p: string) => statSync(p).mode & 0o7777;

function logCtx(lines: string[]): JobContext {
  return {
    signal: new AbortController().signal,
    step: () => undefined,
    progress: () => undefined,
    log: (l) => lines.push(l),
    throwIfCancelled: () => undefined,
  };
}

describe('owner-only output', () => {
  it('creates the library 0700 whatever the umask, and tightens an open one, saying so', async () => {
    const old = process.umask(0o022);
    try {
      await ensureLibraryDir(join(dir, 'new', 'lib'));
      expect(mode(join(dir, 'new', 'lib'))).toBe(0o700);
      const open = join(dir, 'open');
      mkdirSync(open);
      chmodSync(open, 0o775);
      const lines: string[] = [];
      await ensureLibraryDir(open, logCtx(lines));
      expect(mode(open)).toBe(0o700);
      expect(lines.join('\n')).toMatch(/readable by other users \(mode 0775\): now 0700/);
    } finally {
      process.umask(old);
    }
  });

  it('only warns about a shared folder (sticky, like /tmp) used as the library', async () => {
    const shared = join(dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    const lines: string[] = [];
    await ensureLibraryDir(shared, logCtx(lines));
    expect(mode(shared)).toBe(0o1777);
    expect(lines.join('\n')).toMatch(/warning: the library .* is readable by other users/);
  });

  it('leaves an existing output folder outside the library alone', async () => {
    const desk = join(dir, 'Desktop');
    mkdirSync(desk);
    chmodSync(desk, 0o755);
    await ensureOutputDir(desk, join(dir, 'lib'));
    expect(mode(desk)).toBe(0o755);
    await ensureOutputDir(join(dir, 'fresh-out'), join(dir, 'lib'));
    expect(mode(join(dir, 'fresh-out'))).toBe(0o700);
  });

  it('makes a written set owner-only, keeping the owner execute bit of a script', async () => {
    const set = join(dir, 'set');
    mkdirSync(set, { mode: 0o755 });
    writeFileSync(join(set, 'a.gz'), 'x', { mode: 0o644 });
    writeFileSync(join(set, 'restore_golden.sh'), 'x', { mode: 0o755 });
    chmodSync(set, 0o755);
    await makeOwnerOnly(set);
    expect([mode(set), mode(join(set, 'a.gz')), mode(join(set, 'restore_golden.sh'))]).toEqual([
      0o700, 0o600, 0o700,
    ]);
  });
});
