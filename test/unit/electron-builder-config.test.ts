// Packaging: electron-builder.yml is valid for electron-builder's own schema, builds the macOS
// dmg and zip for both architectures with the hardened runtime, and keeps what must be real
// files (builder scripts, checklist, the bundled raw-disk helper, native modules) outside the
// asar archive.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createRequire } from 'node:module';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/fixtures.js';
import { HELPER_PATH } from '../../src-main/core/card-io/card-reads.js';

const require = createRequire(import.meta.url);
const config = load(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as Record<string, any>;

describe('electron-builder.yml', () => {
  it('passes electron-builder validation', async () => {
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config');
    const { DebugLogger } = require('builder-util/out/DebugLogger');
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
  });

  it('builds dmg and zip for arm64 and x64 with the hardened runtime and entitlements', () => {
    expect(config.mac.target).toEqual([
      { target: 'dmg', arch: ['arm64', 'x64'] },
      { target: 'zip', arch: ['arm64', 'x64'] },
    ]);
    expect(config.mac.hardenedRuntime).toBe(true);
    const plist = readFileSync(join(ROOT, config.mac.entitlements), 'utf8');
    expect(config.mac.entitlementsInherit).toBe(config.mac.entitlements);
    // Only what the app needs: JIT for V8 (Electron's code-signing guide). Executable memory
    // without a signature and unsigned libraries are not needed (the native modules are signed
    // with the app) and would weaken the hardened runtime.
    const keys = [...plist.matchAll(/<key>([^<]+)<\/key>/g)].map((m) => m[1]);
    expect(keys).toEqual(['com.apple.security.cs.allow-jit']);
  });

  it('says why it asks for each protected folder it reads (Desktop, Downloads, Documents, removable volumes)', () => {
    const info = config.mac.extendInfo as Record<string, string>;
    for (const key of [
      'NSDesktopFolderUsageDescription',
      'NSDownloadsFolderUsageDescription',
      'NSDocumentsFolderUsageDescription',
      'NSRemovableVolumesUsageDescription',
    ]) {
      expect(info[key], key).toMatch(/^Atlas Imager .{10,}\.$/);
    }
  });

  it('packs main, the bundled helper and preload and the renderer, and unpacks scripts, the helper and native modules', () => {
    expect(config.files).toEqual(
      expect.arrayContaining([
        'dist/src-main/**/*.js',
        'dist/privileged/**',
        '!dist/privileged/**/*.map',
        '!dist/src-main/privileged/**',
        'dist/preload/preload.cjs',
        'dist/renderer/**',
        'lima/**',
        'resources/**',
      ]),
    );
    expect(config.asarUnpack).toEqual(
      expect.arrayContaining([
        'lima/**',
        'resources/**',
        'dist/privileged/**',
        '**/*.node',
        'node_modules/node-pty/**',
        'node_modules/drivelist/**',
      ]),
    );
    // The helper is started by path, as its own process: it must be a real file, outside the asar.
    expect(relative(ROOT, HELPER_PATH)).toBe(join('dist', 'privileged', 'raw-disk-helper.mjs'));
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.main).toBe('dist/src-main/electron/main.js');
    expect(existsSync(join(ROOT, 'src-main', 'electron', 'main.ts'))).toBe(true);
  });

  it('leaves out the unbundled helper: nothing packed imports it at run time', () => {
    const sources = readdirSync(join(ROOT, 'src-main'), { recursive: true, encoding: 'utf8' }).filter(
      (f) => f.endsWith('.ts') && !f.startsWith('privileged'),
    );
    expect(sources.length).toBeGreaterThan(50);
    const importers = sources.filter((f) =>
      /^import [^;]*from '[./]*privileged\//m.test(readFileSync(join(ROOT, 'src-main', f), 'utf8')),
    );
    expect(importers).toEqual([]);
    // The helper's request and event shapes are shared data, in src-main/common.
    expect(readFileSync(join(ROOT, 'src-main', 'core', 'cards', 'helper-client.ts'), 'utf8')).toMatch(
      /^import type [^;]*from '\.\.\/\.\.\/common\/raw-disk-protocol\.js'/m,
    );
  });
});
