// Phase 0 Insert, run for real as root on generated Armbian-shaped images.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { odsSd } from '../helpers/cli.js';
import { copyFixture, fixture, scratch } from '../helpers/fixtures.js';
import { debugfsCat, debugfsStat, e2fsckClean, mtype, sfdiskJson, sha256 } from '../helpers/disk-tools.js';

const SECRET = 'Sup3r-Secr3t-pw';

function makePayload(dir: string): { payload: string; secrets: string } {
  const payload = join(dir, 'ods-player-os-atlas');
  mkdirSync(join(payload, 'scripts'), { recursive: true });
  writeFileSync(join(payload, 'scripts', 'atlas_firstboot.sh'), '#!/bin/bash\necho "provisioning"\n', {
    mode: 0o644,
  });
  writeFileSync(
    join(payload, 'scripts', 'atlas-firstboot.service'),
    '[Unit]\nDescription=first boot\n[Service]\nType=oneshot\nExecStart=/usr/local/bin/atlas_firstboot.sh\n[Install]\nWantedBy=multi-user.target\n',
  );
  const secrets = join(dir, 'atlas_secrets.conf');
  writeFileSync(secrets, `ROOT_PASSWORD="${SECRET}"\nOTTER_PASSWORD="otter-pw"\n`, { mode: 0o600 });
  return { payload, secrets };
}

/** The flags of one `ods-sd insert`; without `secrets` it looks for them itself. */
interface InsertFlags {
  base: string;
  payload: string;
  secrets?: string | undefined;
  version: string;
  tag: string;
  library: string;
}

function insert(f: InsertFlags) {
  return odsSd([
    'insert',
    f.base,
    '--payload',
    f.payload,
    ...(f.secrets === undefined ? [] : ['--secrets', f.secrets]),
    '--version',
    f.version,
    '--tag',
    f.tag,
    '--library',
    f.library,
  ]);
}

/** The files a library holds, dot files (locks) aside; none when it was never made. */
function libraryFiles(lib: string): string[] {
  return existsSync(lib) ? readdirSync(lib).filter((f) => !f.startsWith('.')) : [];
}

/** How a refused insert must fail: always exit 2, with these error fields where given. */
interface Refusal {
  code?: string;
  message?: RegExp;
  /** `true`: some hint; a RegExp: a hint that matches it. */
  hint?: true | RegExp;
  /** What the library holds afterwards (dot files aside): nothing unless given. */
  leaves?: string[];
}

describe('ods-sd insert (Phase 0)', () => {
  let dir: string;
  let base: string;
  let payload: string;
  let secrets: string;

  beforeAll(() => {
    dir = scratch('insert');
    base = copyFixture(fixture('base'), dir, 'Armbian_26.2.1_Rpi4b_trixie_current_6.18.9_minimal.img');
    ({ payload, secrets } = makePayload(dir));
  });

  it(
    'builds ods-atlas-golden-vX-Y-Z-TAG.img with the payload where the firstboot service expects it',
    { timeout: 300_000 },
    async () => {
      const lib = join(dir, 'lib');
      const before = sha256(base);
      const r = await insert({ base, payload, secrets, version: '9.1.7', tag: 'ORIGIN', library: lib });
      expect(r.code, r.stderr).toBe(0);
      const img = join(lib, 'ods-atlas-golden-v9-1-7-ORIGIN.img');
      expect(r.json.result.image).toBe(img);

      // The base is never modified.
      expect(sha256(base)).toBe(before);
      // Same layout as the base, clean file system.
      expect(sfdiskJson(img).partitions.map((p) => [p.start, p.size])).toEqual(
        sfdiskJson(base).partitions.map((p) => [p.start, p.size]),
      );
      expect(e2fsckClean(img).code).toBe(0);

      // Contents, modes and owners, read with debugfs.
      expect(debugfsStat(img, '/usr/local/bin/atlas_firstboot.sh')).toMatchObject({
        type: 'regular',
        mode: '0755',
        uid: 0,
      });
      expect(debugfsStat(img, '/etc/systemd/system/atlas-firstboot.service')).toMatchObject({
        type: 'regular',
        mode: '0644',
        uid: 0,
      });
      expect(debugfsStat(img, '/usr/local/etc/atlas_secrets.conf')).toMatchObject({
        type: 'regular',
        mode: '0600',
        uid: 0,
      });
      expect(
        debugfsStat(img, '/etc/systemd/system/multi-user.target.wants/atlas-firstboot.service'),
      ).toMatchObject({
        type: 'symlink',
        target: '/etc/systemd/system/atlas-firstboot.service',
      });
      expect(debugfsStat(img, '/etc/ods/atlas_secrets.conf')?.target).toBe(
        '/usr/local/etc/atlas_secrets.conf',
      );
      expect(debugfsStat(img, '/var/lib/ods/atlas_firstboot_pending')?.type).toBe('regular');
      expect(debugfsStat(img, '/etc/systemd/system/armbian-firstrun.service')?.target).toBe('/dev/null');
      expect(debugfsStat(img, '/root/.not_logged_in_yet')).toBeUndefined();
      expect(debugfsCat(img, '/usr/local/bin/atlas_firstboot.sh')).toBe(
        readFileSync(join(payload, 'scripts', 'atlas_firstboot.sh'), 'utf8'),
      );
      expect(debugfsCat(img, '/usr/local/etc/atlas_secrets.conf')).toBe(readFileSync(secrets, 'utf8'));
      // Root password preset from the secrets: a SHA-512 crypt hash, not the password.
      const shadow = debugfsCat(img, '/etc/shadow');
      expect(shadow).toMatch(/^root:\$6\$/);
      expect(shadow).not.toContain(SECRET);
      // cmdline.txt on the FAT boot partition, read with mtools.
      expect(mtype(img, 'cmdline.txt')).toMatch(
        /consoleblank=0 .*splash quiet plymouth.ignore-serial-consoles/,
      );
      expect(mtype(img, 'cmdline.txt')).toContain('loglevel=3');

      // The manifest says what was made from what.
      const manifest = JSON.parse(readFileSync(`${img}.manifest.json`, 'utf8'));
      expect(manifest).toMatchObject({ kind: 'golden-image', phase: 0, version: '9.1.7', tag: 'ORIGIN' });
      expect(manifest.source.sha256).toBe(before);
      expect(manifest.files[0].sha256).toBe(sha256(img));
      expect(manifest.injected.map((i: { path: string }) => i.path)).toContain(
        '/usr/local/etc/atlas_secrets.conf',
      );
      expect(manifest.tools.partclone).toMatch(/^\d/);

      // The secret never reaches output, logs or the manifest.
      expect(r.stdout + r.stderr).not.toContain(SECRET);
      expect(readFileSync(`${img}.manifest.json`, 'utf8')).not.toContain(SECRET);

      // inspect says it is a Phase 0 golden image.
      const i = await odsSd(['inspect', img]);
      expect(i.json.result).toMatchObject({
        state: 'golden',
        payloadPresent: true,
        artifact: { kind: 'golden-image', phase: 0 },
      });
    },
  );

  it('keeps owner, group and mode of the files it edits (/etc/shadow stays root:shadow 0640)', async () => {
    expect(debugfsStat(base, '/etc/shadow')).toMatchObject({ mode: '0640', uid: 0, gid: 42 });
    const lib = join(dir, 'lib-owners');
    const r = await insert({ base, payload, secrets, version: '9.1.9', tag: 'OWNERS', library: lib });
    expect(r.code, r.stderr).toBe(0);
    const img = join(lib, 'ods-atlas-golden-v9-1-9-OWNERS.img');
    expect(debugfsCat(img, '/etc/shadow')).toMatch(/^root:\$6\$/);
    expect(debugfsStat(img, '/etc/shadow')).toMatchObject({ type: 'regular', mode: '0640', uid: 0, gid: 42 });
  });

  it(
    'edits line 1 of cmdline.txt only (the firmware reads no other) and keeps the rest as it was',
    { timeout: 300_000 },
    async () => {
      // Line 2 is a comment that names two of insert's own words; line 3 has a tab and loglevel.
      const rest = '# quiet splash  (disabled by admin)\n\tloglevel=7 extra\n\n';
      const twoLines = copyFixture(
        fixture('base', {
          cmdline: `console=tty1 root=LABEL=armbi_root loglevel=1 rootwait\\n${rest.replaceAll('\n', '\\n').replaceAll('\t', '\\t')}`,
        }),
        dir,
        'Armbian_26.2.1_Rpi4b_trixie_current_6.18.9_minimal-two-lines.img',
      );
      expect(mtype(twoLines, 'cmdline.txt')).toBe(
        `console=tty1 root=LABEL=armbi_root loglevel=1 rootwait\n${rest}`,
      );
      const lib = join(dir, 'lib-cmdline');
      const r = await insert({
        base: twoLines,
        payload,
        secrets,
        version: '9.1.8',
        tag: 'CMD',
        library: lib,
      });
      expect(r.code, r.stderr).toBe(0);
      const cmdline = mtype(join(lib, 'ods-atlas-golden-v9-1-8-CMD.img'), 'cmdline.txt');
      const [line1, ...others] = cmdline.split('\n');
      expect(line1).toBe(
        'console=tty1 root=LABEL=armbi_root loglevel=3 rootwait consoleblank=0 splash quiet plymouth.ignore-serial-consoles vt.global_cursor_default=0',
      );
      expect(others.join('\n')).toBe(rest);
    },
  );

  it(
    'a cmdline.txt with CRLF line ends keeps them, and a word already on line 1 is not added again',
    { timeout: 300_000 },
    async () => {
      const crlf = copyFixture(
        fixture('base', { cmdline: 'console=tty1 quiet root=LABEL=armbi_root rootwait\\r\\n# note\\r\\n' }),
        dir,
        'Armbian_26.2.1_Rpi4b_trixie_current_6.18.9_minimal-crlf.img',
      );
      const lib = join(dir, 'lib-crlf');
      const r = await insert({ base: crlf, payload, secrets, version: '9.1.8', tag: 'CRLF', library: lib });
      expect(r.code, r.stderr).toBe(0);
      expect(mtype(join(lib, 'ods-atlas-golden-v9-1-8-CRLF.img'), 'cmdline.txt')).toBe(
        'console=tty1 quiet root=LABEL=armbi_root rootwait consoleblank=0 splash plymouth.ignore-serial-consoles vt.global_cursor_default=0\r\n# note\r\n',
      );
    },
  );

  describe("reads ROOT_PASSWORD as the firstboot's `source` does", () => {
    /** True when the root hash in the image's /etc/shadow is the hash of `pw`. */
    function rootHashIs(img: string, pw: string): boolean {
      const hash = debugfsCat(img, '/etc/shadow').split('\n')[0]!.split(':')[1]!;
      const salt = hash.split('$')[2]!;
      const want = execFileSync('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], {
        input: pw,
        encoding: 'utf8',
      });
      return want.trim() === hash;
    }
    let k = 0;
    async function insertWith(text: string) {
      const file = join(dir, `secrets-${++k}.conf`);
      writeFileSync(file, text, { mode: 0o600 });
      const lib = join(dir, `lib-pw-${k}`);
      const r = await insert({ base, payload, secrets: file, version: '3.0.0', tag: `PW${k}`, library: lib });
      return { r, img: join(lib, `ods-atlas-golden-v3-0-0-PW${k}.img`) };
    }

    it.each([
      ['export', 'export ROOT_PASSWORD="Exp0rt-pw"\n', 'Exp0rt-pw'],
      ['indented with a trailing comment', '  ROOT_PASSWORD="Ind3nt pw"   # root login\n', 'Ind3nt pw'],
      ['single quotes', "OTHER=1\nROOT_PASSWORD='S1ngle$pw'\n", 'S1ngle$pw'],
    ])('%s', async (_what, text, pw) => {
      const { r, img } = await insertWith(text);
      expect(r.code, r.stderr).toBe(0);
      expect(rootHashIs(img, pw)).toBe(true);
      expect(r.stdout + r.stderr).not.toContain(pw);
    });

    it('refuses a file bash cannot read, without showing its content', async () => {
      const { r } = await insertWith('ROOT_PASSWORD="Unterm1nated\n');
      expect(r.code).toBe(2);
      expect(r.json.error?.message).toMatch(/not valid shell \(line \d+\)/);
      expect(r.stdout + r.stderr).not.toContain('Unterm1nated');
    });
  });

  it('accepts a compressed base (.img.xz) and leaves it untouched', { timeout: 300_000 }, async () => {
    const xz = join(dir, 'base.img.xz');
    execFileSync('bash', ['-c', 'xz -T0 -1 -c -- "$1" > "$2"', 'xz', base, xz]);
    const before = sha256(xz);
    const lib = join(dir, 'lib-xz');
    const r = await insert({
      base: xz,
      payload: join(payload, 'scripts'),
      secrets,
      version: '9.2',
      tag: 'XZ',
      library: lib,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(sha256(xz)).toBe(before);
    const img = join(lib, 'ods-atlas-golden-v9-2-XZ.img');
    expect(e2fsckClean(img).code).toBe(0);
    expect(debugfsStat(img, '/usr/local/bin/atlas_firstboot.sh')?.mode).toBe('0755');
    expect(r.json.result.baseSha256).toBe(sha256(base));
  });

  it('supports a GPT base image', { timeout: 300_000 }, async () => {
    const gpt = copyFixture(fixture('base', { label: 'gpt' }), dir, 'gpt-base.img');
    const lib = join(dir, 'lib-gpt');
    const r = await insert({ base: gpt, payload, secrets, version: '1.0.0', tag: 'GPT', library: lib });
    expect(r.code, r.stderr).toBe(0);
    const img = join(lib, 'ods-atlas-golden-v1-0-0-GPT.img');
    expect(sfdiskJson(img).label).toBe('gpt');
    expect(debugfsStat(img, '/usr/local/etc/atlas_secrets.conf')?.mode).toBe('0600');
  });

  describe('refuses bad input with a clear message and leaves nothing behind', () => {
    let libraries = 0;

    /** Runs an insert that must be refused (the good flags, with `flags` over them) and checks how. */
    async function refused(flags: Partial<InsertFlags>, want: Refusal): Promise<void> {
      const f: InsertFlags = {
        base,
        payload,
        secrets,
        version: '1.0.0',
        tag: 'NO',
        library: join(dir, `lib-refused-${++libraries}`),
        ...flags,
      };
      const r = await insert(f);
      expect(r.code, r.stderr).toBe(2);
      if (want.code !== undefined) expect(r.json.error?.code).toBe(want.code);
      if (want.message !== undefined) expect(r.json.error?.message).toMatch(want.message);
      if (want.hint === true) expect(r.json.error?.hint).toBeTruthy();
      else if (want.hint !== undefined) expect(r.json.error?.hint).toMatch(want.hint);
      expect(libraryFiles(f.library)).toEqual(want.leaves ?? []);
    }

    it.each([
      ['a tag with a space', { tag: 'MY TAG' }, /tag/],
      ['a tag with quotes', { tag: '"X"' }, /tag/],
      ['a tag with ;', { tag: 'A;rm' }, /tag/],
      ['a tag with $()', { tag: '$(id)' }, /tag/],
      ['a tag with ../', { tag: '../X' }, /tag/],
      ['a bad version', { version: '1.2.3.4.5' }, /version/],
    ])('%s', (_what, flags: Partial<InsertFlags>, message) =>
      refused(flags, { code: 'bad-input', message, hint: true }),
    );

    it('a missing base', () =>
      refused({ base: join(dir, 'nope.img') }, { code: 'not-found', message: /no base image/ }));
    it('a file that is not an image', () => {
      const junk = join(dir, 'junk.img');
      writeFileSync(junk, Buffer.alloc(4 * 1024 * 1024, 7));
      return refused(
        { base: junk },
        { code: 'bad-input', message: /no partition table|not an SD-card image/ },
      );
    });
    it('a truncated image', () => {
      const t = copyFixture(fixture('base'), dir, 'truncated.img');
      execFileSync('truncate', ['-s', String(600 * 1024 * 1024), t]);
      return refused({ base: t }, { code: 'bad-input', message: /truncated/ });
    });
    it('an image without an ext4 root', () =>
      refused({ base: fixture('no-ext4') }, { code: 'unsupported', message: /not an Armbian/ }));
    it('a provisioned card image (never cross phases)', () =>
      refused({ base: fixture('provisioned') }, { code: 'wrong-phase', message: /provisioned/ }));
    it('an image that already has the payload', () =>
      refused({ base: fixture('golden') }, { code: 'wrong-phase', message: /golden/ }));
    it('a clone image by its name', () => {
      const named = copyFixture(fixture('base'), dir, 'ods-atlas-clone-v1-0-0-X.img');
      return refused({ base: named }, { code: 'wrong-phase', message: /clone-image/ });
    });
    it('a payload folder without the firstboot files', () => {
      const empty = join(dir, 'empty-payload');
      mkdirSync(empty, { recursive: true });
      return refused(
        { payload: empty, tag: 'NOPAY' },
        { code: 'not-found', message: /no Atlas payload/, hint: /ods-player-os-atlas checkout/ },
      );
    });
    it('an output that already exists', async () => {
      const lib = join(dir, 'lib-exists');
      const existing = 'ods-atlas-golden-v1-0-0-DUP.img';
      mkdirSync(lib, { recursive: true });
      writeFileSync(join(lib, existing), 'precious');
      await refused({ tag: 'DUP', library: lib }, { code: 'exists', leaves: [existing] });
      expect(readFileSync(join(lib, existing), 'utf8')).toBe('precious');
    });
    it('secrets imported once (0600, names only shown) are used by later inserts', async () => {
      const lib = join(dir, 'lib-imported');
      const imp = await odsSd(['secrets', 'import', secrets, '--library', lib]);
      expect(imp.code, imp.stderr).toBe(0);
      expect(imp.json.result).toMatchObject({
        present: true,
        mode: '600',
        keys: ['ROOT_PASSWORD', 'OTTER_PASSWORD'],
      });
      expect(statSync(join(lib, 'scripts')).mode & 0o777).toBe(0o700);
      expect(imp.stdout + imp.stderr).not.toContain(SECRET);
      const r = await insert({ base, payload, version: '1.0.0', tag: 'IMPORTED', library: lib });
      expect(r.code, r.stderr).toBe(0);
      expect(debugfsCat(r.json.result.image, '/usr/local/etc/atlas_secrets.conf')).toBe(
        readFileSync(secrets, 'utf8'),
      );
      const bad = join(dir, 'not-secrets.txt');
      writeFileSync(bad, 'this is not a settings file\n');
      const rejected = await odsSd(['secrets', 'import', bad, '--library', lib]);
      expect(rejected.code).toBe(2);
      expect(rejected.json.error?.message).toMatch(/line 1 is not a KEY="value" setting/);
    });

    it('missing secrets', () =>
      refused({ secrets: undefined, tag: 'NOSEC' }, { message: /atlas_secrets.conf/, hint: /--secrets/ }));
  });
});
