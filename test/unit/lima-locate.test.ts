// Finding limactl (apps started from Finder lack the shell's PATH) and keeping LIMA_HOME short
// enough for Lima's unix sockets (pkg/instance/create.go, pkg/limatype/filenames/filenames.go).
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AtlasError } from '../../src-main/core/errors.js';
import {
  checkSocketPathLength,
  findLimactl,
  HOMEBREW_LIMACTL,
  limactlCandidates,
  limactlNotFound,
  limaHome,
} from '../../src-main/core/lima/locate.js';

describe('finding limactl', () => {
  it('tries ATLAS_LIMACTL, then PATH, then the Homebrew prefixes', () => {
    expect(limactlCandidates({ ATLAS_LIMACTL: '/x/limactl', PATH: '/a:/b' })).toEqual([
      '/x/limactl',
      '/a/limactl',
      '/b/limactl',
      ...HOMEBREW_LIMACTL,
    ]);
  });

  it('finds Homebrew limactl without it being in PATH (an app started from Finder)', () => {
    const found = findLimactl({ PATH: '/usr/bin:/bin' }, (p) => p === '/opt/homebrew/bin/limactl');
    expect(found).toBe('/opt/homebrew/bin/limactl');
    expect(findLimactl({ PATH: '/usr/bin' }, (p) => p === '/usr/local/bin/limactl')).toBe(
      '/usr/local/bin/limactl',
    );
  });

  it('prefers PATH over the Homebrew prefixes', () => {
    expect(findLimactl({ PATH: '/opt/lima/bin' }, () => true)).toBe('/opt/lima/bin/limactl');
  });

  it('never replaces an explicit ATLAS_LIMACTL that does not work by another limactl', () => {
    const usable = (p: string) => p !== '/broken/limactl';
    expect(findLimactl({ ATLAS_LIMACTL: '/broken/limactl', PATH: '/usr/bin' }, usable)).toBeUndefined();
    expect(limactlNotFound({ ATLAS_LIMACTL: '/broken/limactl' }).message).toMatch(
      /ATLAS_LIMACTL=\/broken\/limactl/,
    );
  });

  it('says how to install Lima when there is none', () => {
    expect(findLimactl({ PATH: '/nowhere' }, () => false)).toBeUndefined();
    const e = limactlNotFound({ PATH: '/nowhere' });
    expect(e).toBeInstanceOf(AtlasError);
    expect(e.code).toBe('missing-tool');
    expect(e.hint).toMatch(/brew install lima/);
  });

  it('ignores relative PATH entries (a limactl in the current folder is never picked)', () => {
    expect(limactlCandidates({ PATH: '.:bin:/usr/bin' })).toEqual(['/usr/bin/limactl', ...HOMEBREW_LIMACTL]);
  });
});

describe('LIMA_HOME', () => {
  it('defaults to ~/.lima and resolves symlinks as Lima does (/tmp is /private/tmp on a Mac)', () => {
    expect(limaHome({ LIMA_HOME: '' })).toMatch(/\/\.lima$/);
    const dir = mkdtempSync(join(tmpdir(), 'atlas-lh-'));
    mkdirSync(join(dir, 'real'));
    symlinkSync(join(dir, 'real'), join(dir, 'link'));
    expect(limaHome({ LIMA_HOME: join(dir, 'link') })).toBe(join(dir, 'real'));
  });

  it('accepts a socket path of 103 characters on macOS and refuses 104, with the way out', () => {
    const suffix = '/atlas-build/ssh.sock.1234567890123456'.length;
    const home = (n: number) => `/${'h'.repeat(n - suffix - 1)}`;
    expect(home(103).length + suffix).toBe(103);
    expect(() => checkSocketPathLength(home(103), 'atlas-build', 'darwin')).not.toThrow();
    let err: AtlasError | undefined;
    try {
      checkSocketPathLength(home(104), 'atlas-build', 'darwin');
    } catch (e) {
      err = e as AtlasError;
    }
    expect(err?.code).toBe('bad-input');
    expect(err?.message).toMatch(/104 characters, the limit is 103/);
    expect(err?.hint).toMatch(/set LIMA_HOME to a shorter folder \(at most 65 characters/);
  });

  it('allows Linux its 108 characters', () => {
    const suffix = '/atlas-build/ssh.sock.1234567890123456'.length;
    const home = `/${'h'.repeat(107 - suffix - 1)}`;
    expect(() => checkSocketPathLength(home, 'atlas-build', 'linux')).not.toThrow();
    expect(() => checkSocketPathLength(home, 'atlas-build', 'darwin')).toThrow(/LIMA_HOME is too long/);
  });
});
