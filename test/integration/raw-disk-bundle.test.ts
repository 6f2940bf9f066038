// The raw-disk helper as the packaged app ships it: one bundled file in app.asar.unpacked, started
// as its own process, with nothing of the app's dist/ or node_modules reachable but drivelist
// (unpacked beside it). Its imports are read from its syntax tree; then a copy in a folder laid
// out like app.asar.unpacked (no package.json, node_modules holding only drivelist) reads and
// writes a loop-device card through the app's own client and launcher. The unbundled tsc output
// fails in the same folder. Results are judged with sha256.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, parse } from 'node:path';
import { parseAst } from 'vite';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ROOT, scratch } from '../helpers/fixtures.js';
import { helperBundleStale } from '../helpers/helper-bundle.js';
import { attachAsDevice, loopDevicesFor, makeFile, sha256 } from '../helpers/disk-tools.js';
import { withMacosPath } from '../helpers/macos-path.js';
import type { AtlasError } from '../../src-main/core/errors.js';
import type { JobContext } from '../../src-main/core/jobs/job.js';
import type * as RawDisk from '../../src-main/core/card-io/card-reads.js';

const MiB = 1024 * 1024;
const BUNDLE = join(ROOT, 'dist', 'privileged', 'raw-disk-helper.mjs');
const TSC_OUTPUT = join(ROOT, 'dist', 'src-main', 'privileged', 'raw-disk-helper.js');

/** Every module the code can load: import/export … from, import(), require() and the bundler's __require(). */
function moduleSpecifiers(code: string): { imports: string[]; requires: string[]; unknown: number } {
  const imports: string[] = [];
  const requires: string[] = [];
  let unknown = 0;
  const literal = (node: any): string | undefined =>
    node?.type === 'Literal' && typeof node.value === 'string' ? node.value : undefined;
  const visit = (node: any): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    if (
      (node.type === 'ImportDeclaration' ||
        node.type === 'ExportAllDeclaration' ||
        node.type === 'ExportNamedDeclaration') &&
      node.source
    ) {
      imports.push(literal(node.source)!);
    } else if (node.type === 'ImportExpression') {
      const s = literal(node.source);
      if (s === undefined) unknown++;
      else imports.push(s);
    } else if (
      node.type === 'CallExpression' &&
      node.callee?.type === 'Identifier' &&
      ['require', '__require'].includes(node.callee.name)
    ) {
      const s = literal(node.arguments[0]);
      if (s === undefined) unknown++;
      else requires.push(s);
    }
    for (const [key, value] of Object.entries(node)) if (key !== 'type') visit(value);
  };
  visit(parseAst(code));
  return { imports, requires, unknown };
}

/**
 * A folder laid out like the packaged app's Resources/app.asar.unpacked: the helper at
 * dist/privileged/raw-disk-helper.mjs and node_modules holding only drivelist. Made under the
 * system's temporary folder, so no package.json or node_modules of the project is above it.
 */
function unpackedApp(helper: string): { root: string; helper: string } {
  const root = join(mkdtempSync(join(tmpdir(), 'atlas-unpacked-')), 'app.asar.unpacked');
  mkdirSync(join(root, 'dist', 'privileged'), { recursive: true });
  mkdirSync(join(root, 'node_modules'));
  symlinkSync(join(ROOT, 'node_modules', 'drivelist'), join(root, 'node_modules', 'drivelist'), 'dir');
  const copy = join(root, 'dist', 'privileged', 'raw-disk-helper.mjs');
  copyFileSync(helper, copy);
  for (let dir = root; ; dir = dirname(dir)) {
    expect(existsSync(join(dir, 'package.json')), `${dir}/package.json`).toBe(false);
    if (dir !== root) expect(existsSync(join(dir, 'node_modules')), `${dir}/node_modules`).toBe(false);
    if (dir === parse(dir).root) break;
  }
  return { root, helper: copy };
}

describe('the bundled raw-disk helper, as the packaged app runs it', () => {
  let dir: string;
  const temp: string[] = [];
  const attached: Array<{ dev: string; backing: string }> = [];
  const attach = (backing: string) => {
    const dev = attachAsDevice(backing);
    attached.push({ dev, backing });
    return dev;
  };

  beforeAll(() => {
    // The bundle must be built from the sources it names (its source map lists them).
    expect(helperBundleStale(), 'run npm run build:helper').toBeUndefined();
    dir = scratch('raw-disk-bundle');
  });

  afterAll(() => {
    for (const { dev, backing } of attached) {
      if (loopDevicesFor(backing).some((l) => l.startsWith(`${dev}:`))) execFileSync('losetup', ['-d', dev]);
    }
    for (const t of temp) rmSync(t, { recursive: true, force: true });
  });

  it('imports nothing but Node built-ins and drivelist', () => {
    const code = readFileSync(BUNDLE, 'utf8');
    const { imports, requires, unknown } = moduleSpecifiers(code);
    // Sanity: the parser does see the helper's own imports.
    expect(imports).toEqual(expect.arrayContaining(['node:fs', 'node:child_process']));
    expect(unknown).toBe(0);
    expect(imports.filter((s) => !s.startsWith('node:') && s !== 'drivelist')).toEqual([]);
    // Bundled CommonJS modules (cross-spawn, which, isexe) reach Node's own modules through require.
    expect(requires.filter((s) => !isBuiltin(s))).toEqual([]);
    // execa and the core are inside, not beside it.
    expect(code).toContain('// node_modules/execa/lib/methods/main-async.js');
    expect(code).toContain('// src-main/core/rawio/block-copy.ts');
    // The tsc output, by contrast, imports the core and execa from beside it.
    const tsc = moduleSpecifiers(readFileSync(TSC_OUTPUT, 'utf8')).imports;
    expect(tsc.filter((s) => !s.startsWith('node:'))).toEqual(expect.arrayContaining(['../core/errors.js']));
  });

  it('reads and writes a card from a folder laid out like app.asar.unpacked, through the app’s launcher', async () => {
    const app = unpackedApp(BUNDLE);
    temp.push(dirname(app.root));
    // As in the packaged app (src-main/electron/main.ts): ATLAS_IMAGER_ROOT names the unpacked
    // folder before the core loads, so the client starts the helper there.
    const saved = process.env.ATLAS_IMAGER_ROOT;
    process.env.ATLAS_IMAGER_ROOT = app.root;
    vi.resetModules();
    let raw: typeof RawDisk;
    let jobs: typeof import('../../src-main/core/jobs/job.js');
    let pipeline: typeof import('../../src-main/core/write/write-pipeline.js');
    try {
      raw = await import('../../src-main/core/card-io/card-reads.js');
      pipeline = await import('../../src-main/core/write/write-pipeline.js');
      jobs = await import('../../src-main/core/jobs/job.js');
    } finally {
      // sudo and pkexec start the helper with a reset environment: it must not need the variable.
      if (saved === undefined) delete process.env.ATLAS_IMAGER_ROOT;
      else process.env.ATLAS_IMAGER_ROOT = saved;
    }
    expect(raw.HELPER_PATH).toBe(app.helper);
    expect(process.geteuid?.()).toBe(0);
    expect(await raw.defaultLauncher('linux', '/dev/sdz')).toBe(raw.directLauncher);

    const run = <T>(fn: (ctx: JobContext) => Promise<T>) =>
      jobs.startJob('bundle test', fn, { progressIntervalMs: 0 }).promise.then(
        (value) => ({ value, error: undefined }),
        (error: unknown) => ({ value: undefined, error: error as AtlasError }),
      );
    const CARD = 48 * MiB;

    // Read: the card's bytes land in a new file, checksum for checksum.
    const readBacking = makeFile(join(dir, 'read-card.img'), CARD, [
      [0, 2, 'random'],
      [30, 1, 'random'],
      [47, 1, 0x5a],
    ]);
    const readDev = attach(readBacking);
    const card = await raw.identifyRawCard(readDev);
    expect(card.kind).toBe('device');
    const dest = join(dir, 'read-out.img');
    const r = await run((ctx) => raw.readCardToFile(card, dest, ctx, { launcher: raw.directLauncher }));
    expect(r.error).toBeUndefined();
    expect(r.value).toEqual({ bytes: CARD, sha256: sha256(readBacking), verified: false });
    expect(sha256(dest)).toBe(sha256(readBacking));

    // Write an .img.xz with verification: execa runs xz and blockdev from inside the bundle.
    const image = makeFile(join(dir, 'image.img'), 16 * MiB, [
      [0, 1, 'random'],
      [15, 1, 'random'],
    ]);
    execFileSync('bash', ['-c', 'xz -T0 -1 -c -- "$1" > "$1.xz"', 'xz', image]);
    const writeBacking = makeFile(join(dir, 'write-card.img'), CARD, [[0, 48, 0xa5]]);
    const writeDev = attach(writeBacking);
    const target = await raw.identifyRawCard(writeDev);
    const w = await run((ctx) =>
      pipeline.writeImage(`${image}.xz`, target, ctx, {
        verify: true,
        map: false,
        launcher: raw.directLauncher,
      }),
    );
    expect(w.error).toBeUndefined();
    expect(w.value).toMatchObject({ bytes: 16 * MiB, sha256: sha256(image), verified: true });
    expect(w.value?.mappedBytes).toBeUndefined();
    const onCard = execFileSync(
      'bash',
      ['-c', 'head -c "$2" -- "$1" | sha256sum', 'sha', writeDev, String(16 * MiB)],
      {
        encoding: 'utf8',
      },
    ).split(' ')[0];
    expect(onCard).toBe(sha256(image));

    // As on a Mac, where neither xz nor zstd is installed: the bundle decodes .xz (its WebAssembly
    // inside) and .zst itself.
    for (const kind of ['xz', 'zst'] as const) {
      const packed = `${image}.mac.${kind}`;
      const cmd = kind === 'xz' ? 'xz -1 -c' : 'zstd -q -c';
      execFileSync('bash', ['-c', `${cmd} -- "$1" > "$2"`, 'c', image, packed]);
      const macCard = attach(makeFile(join(dir, `write-card-${kind}.img`), CARD, [[0, 48, 0xa5]]));
      const macTarget = await raw.identifyRawCard(macCard);
      const m = await withMacosPath(() =>
        run((ctx) =>
          pipeline.writeImage(packed, macTarget, ctx, {
            verify: true,
            map: false,
            launcher: raw.directLauncher,
          }),
        ),
      );
      expect(m.error).toBeUndefined();
      expect(m.value).toMatchObject({ bytes: 16 * MiB, sha256: sha256(image), verified: true });
      expect(m.value?.mappedBytes).toBeUndefined();
    }
  });

  it('the unbundled tsc output cannot start from the same folder', async () => {
    const app = unpackedApp(TSC_OUTPUT);
    temp.push(dirname(app.root));
    const child = spawn(process.execPath, [app.helper], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(`${JSON.stringify({ op: 'cancel' })}\n`);
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).not.toBe(0);
    expect(code).not.toBe(3); // 3: the helper ran and answered the cancel
    expect(stdout).toBe('');
    expect(stderr).toMatch(/ERR_MODULE_NOT_FOUND|Cannot find module/);
  });
});
