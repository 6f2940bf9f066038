// Artifacts carry atlas_secrets.conf (the root password): after a real insert, clone and shrink
// every file is 0600, every folder 0700, and so are the archive and staging copies. The library
// is created 0700; an existing one that others can read is tightened.
import { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { odsSd } from '../helpers/cli.js';
import { copyFixture, fixture, scratch } from '../helpers/fixtures.js';
import { startJob } from '../../src-main/core/jobs/job.js';
import { listLibrary } from '../../src-main/core/library/library.js';
import { archiveItem } from '../../src-main/app/archive.js';
import { stageImage } from '../../src-main/app/staging.js';

const mode = (p: string) => statSync(p).mode & 0o7777;

/** Every path under `root` (itself included) with its mode, as "path 0600". */
function modes(root: string): string[] {
  const out = [`${root} ${mode(root).toString(8)}`];
  if (statSync(root).isDirectory())
    for (const n of readdirSync(root).sort()) out.push(...modes(join(root, n)));
  return out;
}

function ownerOnly(root: string): void {
  for (const line of modes(root)) {
    const m = parseInt(line.split(' ').pop()!, 8);
    expect(m & 0o077, `${line}: group and others have no access`).toBe(0);
    expect(m & 0o600, `${line}: the owner reads and writes`).toBe(0o600);
  }
}

describe('artifacts with secrets are readable by their owner only', () => {
  let dir: string;
  let lib: string;

  beforeAll(async () => {
    dir = scratch('modes');
    lib = join(dir, 'atlas-build'); // does not exist yet: the first job creates it
    const payload = join(dir, 'payload');
    mkdirSync(payload);
    writeFileSync(join(payload, 'atlas_firstboot.sh'), '#!/bin/bash\necho provisioning\n', { mode: 0o755 });
    writeFileSync(
      join(payload, 'atlas-firstboot.service'),
      '[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n',
    );
    const secrets = join(dir, 'atlas_secrets.conf');
    writeFileSync(secrets, 'ROOT_PASSWORD="modes-pw"\n', { mode: 0o600 });
    const base = copyFixture(fixture('base'), dir, 'Armbian_26.2.1_Rpi4b_trixie_current_6.18.9_minimal.img');
    const card = copyFixture(fixture('provisioned'), dir, 'dev-card.img');
    const booted = copyFixture(
      fixture('provisioned-booted', { rootMiB: 600, fillMiB: 40 }),
      dir,
      'booted.img',
    );
    const runs = [
      ['insert', base, '--payload', payload, '--secrets', secrets, '--version', '1.0.0', '--tag', 'MODES'],
      ['clone', card, 'modes'],
      ['shrink', booted, '--version', '1.0.0', '--tag', 'MODES'],
    ];
    for (const args of runs) {
      const r = await odsSd([...args, '--library', lib]);
      expect(r.code, r.stderr).toBe(0);
    }
  });

  it('the library is created 0700', () => {
    expect(mode(lib)).toBe(0o700);
  });

  it('golden image, clone set, clone image, block map and manifests are 0600, the set folder 0700', () => {
    const artifacts = readdirSync(lib).filter((n) => !n.startsWith('.'));
    expect(artifacts.sort()).toEqual([
      'golden-clone-modes',
      'ods-atlas-clone-v1-0-0-MODES.img',
      'ods-atlas-clone-v1-0-0-MODES.img.bmap',
      'ods-atlas-clone-v1-0-0-MODES.img.manifest.json',
      'ods-atlas-golden-v1-0-0-MODES.img',
      'ods-atlas-golden-v1-0-0-MODES.img.manifest.json',
    ]);
    for (const a of artifacts.filter((n) => n !== 'golden-clone-modes'))
      expect(mode(join(lib, a)), a).toBe(0o600);
    const set = join(lib, 'golden-clone-modes');
    expect(mode(set)).toBe(0o700);
    for (const f of readdirSync(set))
      expect(mode(join(set, f)), f).toBe(f === 'restore_golden.sh' ? 0o700 : 0o600);
  });

  it('archive copies and the staged image are owner-only too', async () => {
    const { entries } = await listLibrary(lib);
    mkdirSync(join(dir, 'vault')); // the archive disk is connected; its folder is made by the copy
    const archive = join(dir, 'vault', 'golden-atlas-img');
    for (const e of entries) await startJob('archive', (ctx) => archiveItem(e, archive, ctx)).promise;
    ownerOnly(archive);
    expect(readdirSync(archive)).toContain('golden-clone-modes');
    const desktop = join(dir, 'Desktop');
    mkdirSync(desktop, { mode: 0o755 });
    const golden = entries.find((e) => e.kind === 'golden-image')!;
    const r = await startJob('stage', (ctx) => stageImage(golden, lib, desktop, ctx)).promise;
    expect(mode(r.staged)).toBe(0o600);
    expect(mode(desktop)).toBe(0o755); // the Desktop itself is the user's
  });

  it('an existing library that others can read is tightened to 0700', async () => {
    const open = join(dir, 'open-lib');
    mkdirSync(open, { mode: 0o755 });
    chmodSync(open, 0o755);
    const r = await odsSd([
      'clone',
      copyFixture(fixture('provisioned'), dir, 'c2.img'),
      'again',
      '--library',
      open,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(mode(open)).toBe(0o700);
    ownerOnly(join(open, 'golden-clone-again'));
  });
});
