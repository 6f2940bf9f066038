// Manifests from someone else: a pipe, a link, wrong types and terminal escapes. `ods-sd list`
// (a real process) and the app's library view list every set; a bad manifest marks its set as
// damaged, and nothing from a file reaches the terminal unescaped.
import { spawnSync } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { libraryView } from '../../src-main/app/library-view.js';
import { manifestPathFor, newManifest, writeManifest } from '../../src-main/core/library/manifest.js';
import { ROOT, removeScratch, scratch } from '../helpers/fixtures.js';

let library: string;

function setDir(name: string): string {
  const dir = join(library, name);
  mkdirSync(dir);
  return dir;
}

function validManifest(name: string, over: Record<string, unknown> = {}) {
  return {
    ...newManifest({
      kind: 'clone-set',
      phase: 1,
      name,
      version: '8.0.6',
      tag: 'FLASH',
      builder: 'test',
      source: { path: '/dev/sdc', kind: 'card', bytes: 1 },
      files: [],
      tools: {},
    }),
    ...over,
  };
}

/** `ods-sd list` as a user runs it; SIGKILLed after 60 s so a hang fails the test, never the run. */
function list(json: boolean) {
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'bin', 'ods-sd.js'), 'list', '--library', library, ...(json ? ['--json'] : [])],
    { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' },
  );
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  library = join(scratch('hostile-manifests'), 'atlas-build');
  mkdirSync(library);
  execFileSync('mkfifo', [join(setDir('golden-clone-fifo'), 'manifest.json')]);
  symlinkSync('/etc/passwd', join(setDir('golden-clone-link'), 'manifest.json'));
  writeFileSync(
    join(setDir('golden-clone-types'), 'manifest.json'),
    JSON.stringify(validManifest('golden-clone-types', { version: { a: 1 }, tag: ['x'], files: null })),
  );
  const escapes = setDir('golden-clone-escapes');
  await writeManifest(
    manifestPathFor(escapes, 'clone-set'),
    validManifest('golden-clone-escapes', { version: '\u001b[2J', tag: 'x\nFAKE LINE' }) as never,
  );
  await writeManifest(
    manifestPathFor(setDir('golden-clone-good'), 'clone-set'),
    validManifest('golden-clone-good') as never,
  );
});

afterAll(() => removeScratch());

describe('ods-sd list with hostile manifests', () => {
  it('lists every set, marks the bad ones as damaged, and ends', () => {
    const r = list(true);
    expect(r.signal, r.stderr).toBeNull();
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const byName = Object.fromEntries(
      (out.result.entries as Array<{ name: string; damaged?: string; version?: string }>).map((e) => [
        e.name,
        e,
      ]),
    );
    expect(Object.keys(byName).sort()).toEqual([
      'golden-clone-escapes',
      'golden-clone-fifo',
      'golden-clone-good',
      'golden-clone-link',
      'golden-clone-types',
    ]);
    expect(byName['golden-clone-fifo']!.damaged).toMatch(/manifest\.json is a pipe/);
    expect(byName['golden-clone-link']!.damaged).toMatch(/manifest\.json is a link/);
    expect(byName['golden-clone-types']!.damaged).toMatch(/^manifest\.json: version: expected a string/);
    expect(byName['golden-clone-good']!.damaged).toBeUndefined();
    expect(byName['golden-clone-good']!.version).toBe('8.0.6');
    // Nothing of the linked file is read or quoted.
    expect(r.stdout).not.toContain('root:');
  });

  it('prints values from a manifest with their control characters escaped', () => {
    const r = list(false);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('\u001b');
    expect(r.stdout.split('\n').some((l) => l.startsWith('FAKE LINE'))).toBe(false);
    expect(r.stdout).toContain('\\x1b[2J');
    expect(r.stdout).toContain('x\\nFAKE LINE');
    expect(r.stdout).toMatch(/golden-clone-types.*damaged/s);
  });
});

describe("the app's library view with hostile manifests", () => {
  it('lists every set and says which are damaged', async () => {
    const view = await libraryView({
      library,
      archiveDir: join(library, 'none'),
      stagingDir: join(library, 'none'),
    });
    expect(view.items.map((i) => i.name).sort()).toHaveLength(5);
    const damaged = view.items
      .filter((i) => i.damaged)
      .map((i) => i.name)
      .sort();
    expect(damaged).toEqual(['golden-clone-fifo', 'golden-clone-link', 'golden-clone-types']);
  });
});
