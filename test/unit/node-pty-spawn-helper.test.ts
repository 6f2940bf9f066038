// node-pty 1.1.0 publishes prebuilds/darwin-*/spawn-helper without the execute bit
// (microsoft/node-pty#850); on a Mac every terminal then fails with "posix_spawnp failed". The
// install (package.json postinstall, run by scripts/setup.sh's npm ci) makes it executable.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/fixtures.js';

const PTY = join(ROOT, 'node_modules', 'node-pty');
const helpers = (root: string): string[] =>
  readdirSync(join(root, 'prebuilds'))
    .filter((d) => d.startsWith('darwin-'))
    .map((d) => join(root, 'prebuilds', d, 'spawn-helper'));
const mode = (p: string) => statSync(p).mode & 0o777;

describe("node-pty's macOS spawn-helper", () => {
  it('is executable in the installed node-pty (both architectures)', () => {
    const found = helpers(PTY);
    expect(found.length).toBeGreaterThanOrEqual(2);
    for (const h of found) expect(mode(h) & 0o111, `${h} is ${mode(h).toString(8)}`).toBe(0o111);
  });

  it('the install step turns the published 0644 into 0755, and touches nothing else', () => {
    const copy = join(mkdtempSync(join(tmpdir(), 'atlas-pty-')), 'node-pty');
    cpSync(join(PTY, 'prebuilds'), join(copy, 'prebuilds'), { recursive: true });
    for (const h of helpers(copy)) chmodSync(h, 0o644);
    const addon = join(copy, 'prebuilds', 'darwin-arm64', 'pty.node');
    chmodSync(addon, 0o644);
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'spawn-helper-mode.mjs'), copy]);
    for (const h of helpers(copy)) expect(mode(h)).toBe(0o755);
    expect(mode(addon)).toBe(0o644);
  });

  it('runs after every install', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.postinstall).toBe('node scripts/spawn-helper-mode.mjs');
  });
});
