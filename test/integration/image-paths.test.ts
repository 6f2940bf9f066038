// Paths inside an image resolve inside the image: a crafted base image or card whose folders are
// symlinks to host folders (absolute, or ../../.. chains) or loops never makes insert, verify,
// inspect or shrink read or write the host. The "host folders" are scratch folders made here, so a
// failure cannot damage this machine.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { odsSd } from '../helpers/cli.js';
import {
  copyFixture,
  fixture,
  removeScratch,
  ROOT,
  scratch,
  type FixtureOptions,
} from '../helpers/fixtures.js';
import { debugfsCat, debugfsStat, e2fsckClean } from '../helpers/disk-tools.js';

const SECRET = 'Hostile-Secr3t';
const MARKER = 'HOST-MARKER-3f9c';

/** A scratch "host folder" with marker files, and a snapshot of it to compare against. */
function hostDir(files: Record<string, string>): { dir: string; snapshot: () => string } {
  const dir = mkdtempSync('/tmp/atlas-host-');
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(dir, name), text);
    chmodSync(join(dir, name), 0o640);
  }
  const snapshot = () =>
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .map((e) => {
        const p = join(e.parentPath, e.name);
        const st = statSync(p, { throwIfNoEntry: false });
        return `${p} ${st?.mode.toString(8)} ${e.isFile() ? readFileSync(p, 'utf8') : ''}`;
      })
      .sort()
      .join('\n');
  return { dir, snapshot };
}

/** `levels` times "..", then the absolute path: a relative chain that climbs out of any mount. */
function climb(abs: string, levels = 12): string {
  return `${'../'.repeat(levels)}${abs.slice(1)}`;
}

let dir: string;
let payload: string;
let secrets: string;
const hosts: string[] = [];

function host(files: Record<string, string> = { shadow: `root:${MARKER}:1::::::\n`, 'note.txt': MARKER }) {
  const h = hostDir(files);
  hosts.push(h.dir);
  return h;
}

beforeAll(() => {
  dir = scratch('image-paths');
  payload = join(dir, 'payload');
  mkdirSync(payload, { recursive: true });
  writeFileSync(join(payload, 'atlas_firstboot.sh'), '#!/bin/bash\necho provisioning\n');
  writeFileSync(
    join(payload, 'atlas-firstboot.service'),
    '[Unit]\nDescription=first boot\n[Service]\nType=oneshot\nExecStart=/usr/local/bin/atlas_firstboot.sh\n',
  );
  secrets = join(dir, 'atlas_secrets.conf');
  writeFileSync(secrets, `ROOT_PASSWORD="${SECRET}"\n`, { mode: 0o600 });
});

afterAll(() => {
  for (const h of hosts) rmSync(h, { recursive: true, force: true });
  removeScratch();
});

let n = 0;
async function insertInto(opts: FixtureOptions) {
  const base = copyFixture(
    fixture('base', opts),
    dir,
    `Armbian_26.2.1_Rpi4b_trixie_current_6.18.9_minimal-${++n}.img`,
  );
  const lib = join(dir, `lib-${n}`);
  const r = await odsSd([
    'insert',
    base,
    '--payload',
    payload,
    '--secrets',
    secrets,
    '--version',
    '1.0.0',
    '--tag',
    'H',
    '--library',
    lib,
  ]);
  return { r, img: join(lib, 'ods-atlas-golden-v1-0-0-H.img') };
}

describe('insert writes inside the image only', () => {
  it.each([
    ['/etc -> host folder (absolute)', '/etc', (h: string) => h],
    ['/etc -> ../../.. chain to the host folder', '/etc', (h: string) => climb(h)],
  ])('%s', async (_what, path, target) => {
    const h = host();
    const before = h.snapshot();
    const { r, img } = await insertInto({ links: [[path, target(h.dir)]] });
    expect(r.code, r.stderr).toBe(0);
    expect(h.snapshot()).toBe(before);
    // The image's /etc leads to <host path> inside the image: everything went there.
    expect(debugfsStat(img, `${h.dir}/systemd/system/atlas-firstboot.service`)).toMatchObject({
      type: 'regular',
      mode: '0644',
    });
    expect(
      debugfsStat(img, `${h.dir}/systemd/system/multi-user.target.wants/atlas-firstboot.service`)?.type,
    ).toBe('symlink');
    expect(debugfsCat(img, `${h.dir}/shadow`)).toMatch(/^root:\$6\$/);
    expect(e2fsckClean(img).code).toBe(0);
  });

  it.each([
    ['/usr/local', 'bin/atlas_firstboot.sh'],
    ['/etc/systemd/system/multi-user.target.wants', 'atlas-firstboot.service'],
    ['/var/lib/ods', 'atlas_firstboot_pending'],
  ])('%s -> host folder', async (path, file) => {
    const h = host();
    const before = h.snapshot();
    const { r, img } = await insertInto({ links: [[path, h.dir]] });
    expect(r.code, r.stderr).toBe(0);
    expect(h.snapshot()).toBe(before);
    expect(debugfsStat(img, `${h.dir}/${file}`)).toBeDefined();
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  });

  it('refuses a symlink loop with exit 2 and says so', async () => {
    const { r } = await insertInto({
      links: [
        ['/usr/local', '/loop-a'],
        ['/loop-a', '/loop-b'],
        ['/loop-b', '/loop-a'],
      ],
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.json.error?.message).toMatch(/symbolic links|symlink loop/);
  });
});

describe('verify and inspect read inside the card only', () => {
  it.each([
    ['absolute', (h: string) => h],
    ['relative ../../..', (h: string) => climb(h)],
  ])(
    'a checklist rule through /var/lib/ods -> host folder (%s) never shows host content',
    async (_what, target) => {
      const h = host();
      const card = fixture('provisioned', { links: [['/var/lib/ods', target(h.dir)]] });
      const list = join(dir, `checklist-${++n}.json`);
      writeFileSync(
        list,
        JSON.stringify({
          title: 'hostile',
          checks: [
            {
              id: 'shadow',
              label: 'shadow',
              rule: { type: 'file-content', path: '/var/lib/ods/shadow', matches: '.' },
            },
            { id: 'note', label: 'note', rule: { type: 'exists', path: '/var/lib/ods/note.txt' } },
            {
              id: 'phase',
              label: 'phase',
              rule: { type: 'file-content', path: '/var/lib/ods/phase', equals: '2' },
            },
          ],
        }),
      );
      const r = await odsSd(['verify', card, '--checklist', list]);
      expect(r.stdout + r.stderr).not.toContain(MARKER);
      expect(r.json.result.checks.map((c: { ok: boolean }) => c.ok)).toEqual([false, false, true]);
    },
  );

  it('inspect tells the phase from the card, not from a host folder the card links to', async () => {
    const h = host({ phase: '2\n' });
    const card = fixture('golden', { links: [['/var/lib/ods', h.dir]] });
    const r = await odsSd(['inspect', card]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.result.state).toBe('golden');
  });
});

describe('shrink re-enables the resize service inside the image only', () => {
  it('through basic.target.wants -> host folder', async () => {
    const h = host();
    const before = h.snapshot();
    const card = copyFixture(
      fixture('provisioned-booted', { links: [['/etc/systemd/system/basic.target.wants', h.dir]] }),
      dir,
      'wants-card.img',
    );
    const lib = join(dir, 'lib-shrink');
    const r = await odsSd(['shrink', card, '--version', '1.0.0', '--tag', 'W', '--library', lib]);
    expect(r.code, r.stderr).toBe(0);
    expect(h.snapshot()).toBe(before);
    expect(r.json.result.resizeService).toBe('re-enabled');
    const img = join(lib, 'ods-atlas-clone-v1-0-0-W.img');
    expect(debugfsStat(img, `${h.dir}/armbian-resize-filesystem.service`)).toMatchObject({
      type: 'symlink',
      target: '/lib/systemd/system/armbian-resize-filesystem.service',
    });
  });

  it('refuses a loop in basic.target.wants with exit 2', async () => {
    const card = copyFixture(
      fixture('provisioned-booted', {
        links: [
          ['/etc/systemd/system/basic.target.wants', '/loop-a'],
          ['/loop-a', '/loop-b'],
          ['/loop-b', '/loop-a'],
        ],
      }),
      dir,
      'loop-card.img',
    );
    const r = await odsSd([
      'shrink',
      card,
      '--version',
      '1.0.0',
      '--tag',
      'L',
      '--library',
      join(dir, 'lib-loop'),
    ]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.json.error?.message).toMatch(/symbolic links|symlink loop/);
  });
});

describe('the image-path functions of atlas-common.sh', () => {
  const common = join(ROOT, 'lima', 'scripts', 'atlas-common.sh');
  /** Runs atlas_img_path ROOT PATH on a plain folder standing in for a mounted image. */
  function resolve(root: string, path: string): { code: number; out: string } {
    const r = spawnSync(
      'bash',
      ['-c', 'source "$1"; trap - EXIT; atlas_img_path p "$2" "$3"; printf %s "$p"', 'x', common, root, path],
      { encoding: 'utf8' },
    );
    return { code: r.status ?? -1, out: r.stdout.trim().split('\n').pop() ?? '' };
  }

  it('resolves absolute links, .. and chains as the image root would, and refuses loops', () => {
    const root = join(dir, 'fake-root');
    mkdirSync(join(root, 'usr', 'lib'), { recursive: true });
    execFileSync('ln', ['-s', 'usr/lib', join(root, 'lib')]);
    execFileSync('ln', ['-s', '/etc', join(root, 'abs')]);
    execFileSync('ln', ['-s', '../../../../../etc', join(root, 'usr', 'climb')]);
    execFileSync('ln', ['-s', 'a', join(root, 'b')]);
    execFileSync('ln', ['-s', 'b', join(root, 'a')]);
    expect(resolve(root, '/lib/systemd/x')).toEqual({ code: 0, out: `${root}/usr/lib/systemd/x` });
    expect(resolve(root, '/abs/shadow')).toEqual({ code: 0, out: `${root}/etc/shadow` });
    expect(resolve(root, '/usr/climb/shadow')).toEqual({ code: 0, out: `${root}/etc/shadow` });
    expect(resolve(root, '/../../etc/passwd')).toEqual({ code: 0, out: `${root}/etc/passwd` });
    const loop = resolve(root, '/a/x');
    expect(loop.code).toBe(2);
    expect(loop.out).toMatch(/symlink loop/);
  });

  it('no script touches a mounted image except through them, and mounts follow no symlink', () => {
    for (const s of ['inject_atlas.sh', 'probe_root.sh', 'shrink_image.sh']) {
      const text = readFileSync(join(ROOT, 'lima', 'scripts', s), 'utf8');
      expect(text, s).not.toMatch(/\$\{?mnt\}?\//);
    }
    const text = readFileSync(common, 'utf8');
    expect(text.match(/mount -t ext4 -o \S+/g)).toEqual(['mount -t ext4 -o "$_opts"']);
    expect(text).toMatch(/local _opts=\S*nosymfollow/);
  });
});
