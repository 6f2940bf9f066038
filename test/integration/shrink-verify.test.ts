// Phase 2 Verify + Shrink, run for real as root on generated provisioned cards.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { odsSd } from '../helpers/cli.js';
import { copyFixture, fixture, ROOT, scratch } from '../helpers/fixtures.js';
import {
  debugfsStat,
  dumpe2fs,
  e2fsckClean,
  rootChecksums,
  sfdiskJson,
  sha256,
  withPartition,
} from '../helpers/disk-tools.js';

describe('ods-sd verify (Phase 2 checklist)', () => {
  it('passes all twelve checks on a provisioned card, with evidence', async () => {
    const r = await odsSd(['verify', fixture('provisioned')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.result.checks).toHaveLength(12);
    expect(r.json.result.checks.every((c: { ok: boolean }) => c.ok)).toBe(true);
    const byId = Object.fromEntries(
      r.json.result.checks.map((c: { id: string; evidence: string[] }) => [c.id, c.evidence.join('; ')]),
    );
    expect(byId['phase']).toContain('/var/lib/ods/phase = "2"');
    // 120 packages and the two of @scope; .bin and .package-lock.json are no packages.
    expect(byId['node-modules']).toMatch(/^122 packages /);
    expect(byId['plymouth-theme']).toMatch(/^138 /);
    expect(byId['ods-services']).toMatch(/^12 /);
    expect(r.stdout).toContain('✅');
  });

  it('fails on a golden image (Phase 1 has not run) and says which checks failed', async () => {
    const r = await odsSd(['verify', fixture('golden')]);
    expect(r.code).toBe(1);
    expect(r.json.ok).toBe(false);
    expect(r.json.error?.code).toBe('checklist-failed');
    const failed = r.json.result.checks
      .filter((c: { ok: boolean }) => !c.ok)
      .map((c: { id: string }) => c.id);
    expect(failed).toEqual(
      expect.arrayContaining([
        'phase',
        'chromium',
        'server-js',
        'node-modules',
        'ods-services',
        'plymouth-theme',
        'machine-id',
      ]),
    );
    expect(failed).not.toContain('gate');
    expect(r.stdout).toContain('❌');
  });

  it('warns (without failing) when the resize service is missing on a booted card', async () => {
    const r = await odsSd(['verify', fixture('provisioned-booted')]);
    expect(r.code).toBe(0);
    expect(r.json.result.warnings).toBe(1);
    expect(r.json.result.checks.find((c: { id: string }) => c.id === 'resize-service')).toMatchObject({
      ok: false,
      severity: 'warn',
    });
  });

  it('fails "exists" on a dangling symlink (a broken chromium)', async () => {
    const card = fixture('provisioned', { links: [['/usr/bin/chromium', '/usr/lib/chromium/chromium']] });
    const r = await odsSd(['verify', card]);
    expect(r.code).toBe(1);
    const c = r.json.result.checks.find((x: { id: string }) => x.id === 'chromium');
    expect(c.ok).toBe(false);
    expect(c.evidence[0]).toMatch(/leads nowhere in the card/);
  });

  it.each([
    [
      '/usr/lib/systemd/system/… (what systemctl enable writes on trixie)',
      '/usr/lib/systemd/system/armbian-resize-filesystem.service',
    ],
    ['a relative link', '../../../../usr/lib/systemd/system/armbian-resize-filesystem.service'],
  ])('counts the resize link to %s as enabled', async (_what, target) => {
    const link = '/etc/systemd/system/basic.target.wants/armbian-resize-filesystem.service';
    const card = fixture('provisioned', { links: [[link, target]] });
    const r = await odsSd(['verify', card]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.result.warnings).toBe(0);
    expect(r.json.result.checks.find((x: { id: string }) => x.id === 'resize-service').ok).toBe(true);
  });

  it('runs a user-edited checklist file', async () => {
    const dir = scratch('checklist');
    const file = join(dir, 'mine.json');
    writeFileSync(
      file,
      JSON.stringify({
        title: 'mine',
        checks: [
          {
            id: 'plymouth',
            label: 'Plymouth',
            rule: { type: 'count', path: '/usr/share/plymouth/themes/ods', pattern: '*.png', min: 200 },
          },
          {
            id: 'armbian',
            label: 'Armbian',
            rule: { type: 'file-content', path: '/etc/armbian-release', matches: 'BOARD=rpi4b' },
          },
        ],
      }),
    );
    const r = await odsSd(['verify', fixture('provisioned'), '--checklist', file]);
    expect(r.code).toBe(1);
    expect(r.json.result.checks.map((c: { ok: boolean }) => c.ok)).toEqual([false, true]);
    expect(r.json.result.checks[0].evidence[0]).toMatch(/^116 \*\.png/);
  });

  it('refuses a malformed checklist with a clear message', async () => {
    const dir = scratch('checklist-bad');
    const file = join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({
        checks: [{ id: 'x', label: 'X', rule: { type: 'exists', path: '/etc/../../host' } }],
      }),
    );
    const r = await odsSd(['verify', fixture('provisioned'), '--checklist', file]);
    expect(r.code).toBe(2);
    expect(r.json.error?.message).toMatch(/path must be absolute, without ".."/);
  });
});

describe('ods-sd shrink (Phase 2)', () => {
  let dir: string;
  let card: string;
  let cardSha: string;
  let lib: string;
  let image: string;
  let result: any;

  beforeAll(async () => {
    dir = scratch('shrink');
    lib = join(dir, 'atlas-build');
    card = copyFixture(fixture('provisioned-booted', { rootMiB: 600, fillMiB: 40 }), dir, 'card.img');
    cardSha = sha256(card);
    const r = await odsSd(['shrink', card, '--version', '9.1.7', '--tag', 'FLASH', '--library', lib]);
    expect(r.code, r.stderr).toBe(0);
    result = r.json.result;
    image = join(lib, 'ods-atlas-clone-v9-1-7-FLASH.img');
  });

  it('works on a copy: the card is unchanged', () => {
    expect(sha256(card)).toBe(cardSha);
  });

  it('sizes the root partition by the seed rule and ends the image at the partition end', () => {
    const fs = dumpe2fs(image);
    const fsSectors = (Number(fs['Block count']) * Number(fs['Block size'])) / 512;
    const expected = Math.floor((fsSectors + Math.floor((fsSectors * 5) / 100) + 7) / 8) * 8;
    const t = sfdiskJson(image);
    expect(t.partitions[1]!.start).toBe(sfdiskJson(card).partitions[1]!.start);
    expect(t.partitions[1]!.size).toBe(expected);
    expect(statSync(image).size).toBe((t.partitions[1]!.start + t.partitions[1]!.size) * 512);
    expect(statSync(image).size).toBeLessThan(statSync(card).size);
    expect(result.rootSectors).toBe(expected);
  });

  it('keeps every file, with a clean file system and the resize service re-enabled', () => {
    expect(e2fsckClean(image).code).toBe(0);
    const before = rootChecksums(card);
    const after = rootChecksums(image);
    after.delete('etc/systemd/system/basic.target.wants/armbian-resize-filesystem.service');
    expect(after).toEqual(before);
    expect(
      debugfsStat(image, '/etc/systemd/system/basic.target.wants/armbian-resize-filesystem.service'),
    ).toMatchObject({
      type: 'symlink',
      target: '/lib/systemd/system/armbian-resize-filesystem.service',
    });
    expect(result.resizeService).toBe('re-enabled');
  });

  it('writes a manifest and the library lists the image as Phase 2', async () => {
    const m = JSON.parse(readFileSync(`${image}.manifest.json`, 'utf8'));
    expect(m).toMatchObject({ kind: 'clone-image', phase: 2, version: '9.1.7', tag: 'FLASH' });
    expect(m.files[0].sha256).toBe(sha256(image));
    expect(m.files[1]).toMatchObject({
      name: 'ods-atlas-clone-v9-1-7-FLASH.img.bmap',
      sha256: sha256(`${image}.bmap`),
    });
    const l = await odsSd(['list', '--library', lib]);
    expect(l.json.result.entries).toEqual([
      expect.objectContaining({ name: 'ods-atlas-clone-v9-1-7-FLASH.img', phase: 2, kind: 'clone-image' }),
    ]);
  });

  it('reads only the used blocks of the card', () => {
    expect(result.readBytes).toBeLessThan(statSync(card).size / 4);
    expect(spawnSync('sfdisk', ['--verify', image]).status).toBe(0);
  });

  it('writes a .bmap that bmaptool accepts, and flash writes by it', async () => {
    const bmap = `${image}.bmap`;
    expect(result.bmap).toBe(bmap);
    const target = join(dir, 'bmaptool-target.img');
    execFileSync('truncate', ['-s', String(statSync(image).size), target]);
    const bt = spawnSync('bmaptool', ['copy', '--bmap', bmap, image, target], { encoding: 'utf8' });
    expect(bt.status, bt.stderr).toBe(0);
    expect(e2fsckClean(target).code).toBe(0);
    const card2 = join(dir, 'flash-by-bmap.img');
    execFileSync('truncate', ['-s', String(statSync(image).size + 1024 * 1024), card2]);
    const f = await odsSd(['flash', image, card2, '--yes']);
    expect(f.code, f.stderr).toBe(0);
    expect(f.json.result.mode).toBe('bmap');
    expect(f.json.result.cards[0].writtenBytes).toBeLessThanOrEqual(f.json.result.mappedBytes + 33 * 512);
    expect(rootChecksums(card2)).toEqual(rootChecksums(image));
  });

  it('refuses to shrink a card that fails the checklist, unless forced', { timeout: 300_000 }, async () => {
    const golden = copyFixture(fixture('golden'), dir, 'golden.img');
    const r = await odsSd(['shrink', golden, '--version', '1.0.0', '--tag', 'EARLY', '--library', lib]);
    expect(r.code).toBe(1);
    expect(r.json.error?.code).toBe('checklist-failed');
    expect(r.json.error?.hint).toMatch(/--force/);
    expect(existsSync(join(lib, 'ods-atlas-clone-v1-0-0-EARLY.img'))).toBe(false);
    const forced = await odsSd([
      'shrink',
      golden,
      '--version',
      '1.0.0',
      '--tag',
      'EARLY',
      '--library',
      lib,
      '--force',
    ]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(e2fsckClean(join(lib, 'ods-atlas-clone-v1-0-0-EARLY.img')).code).toBe(0);
  });

  it('shrinks a GPT card and moves the backup table to the new end', { timeout: 300_000 }, async () => {
    const gpt = copyFixture(fixture('provisioned', { label: 'gpt', rootMiB: 400 }), dir, 'gpt.img');
    const r = await odsSd(['shrink', gpt, '--version', '2.0', '--tag', 'GPT', '--library', lib]);
    expect(r.code, r.stderr).toBe(0);
    const img = join(lib, 'ods-atlas-clone-v2-0-GPT.img');
    expect(spawnSync('sfdisk', ['--verify', img], { encoding: 'utf8' }).status).toBe(0);
    const t = sfdiskJson(img);
    expect(statSync(img).size).toBe((t.partitions[1]!.start + t.partitions[1]!.size + 33) * 512);
    expect(e2fsckClean(img).code).toBe(0);
  });

  it('refuses an existing output, a bad tag and an image without ext4 root', async () => {
    const again = await odsSd(['shrink', card, '--version', '9.1.7', '--tag', 'FLASH', '--library', lib]);
    expect(again.code).toBe(2);
    expect(again.json.error?.code).toBe('exists');
    const bad = await odsSd(['shrink', card, '--version', '9.1.7', '--tag', 'a b', '--library', lib]);
    expect(bad.code).toBe(2);
    const noext4 = await odsSd([
      'shrink',
      fixture('no-ext4'),
      '--version',
      '9.1.7',
      '--tag',
      'NOEXT',
      '--library',
      lib,
    ]);
    expect(noext4.code).toBe(2);
    expect(noext4.json.error?.code).toBe('unsupported');
    expect(readdirSync(lib).filter((f) => f.includes('NOEXT') || f.endsWith('.partial'))).toEqual([]);
  });

  it('never leaves a half-written image when the output directory fills up', async () => {
    const small = join(dir, 'small');
    execFileSync('mkdir', ['-p', small]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=30m', 'tmpfs', small]);
    try {
      const r = await odsSd(['shrink', card, '--version', '9.1.8', '--tag', 'FULL', '--library', small]);
      expect(r.code).toBe(1);
      expect(r.json.error?.code).toBe('no-space');
      expect(readdirSync(small).filter((f) => !f.startsWith('.'))).toEqual([]);
    } finally {
      execFileSync('umount', [small]);
    }
  });

  it('inspect tells base, golden and provisioned images apart', async () => {
    const states = await Promise.all(
      (['base', 'golden', 'provisioned'] as const).map(
        async (v) => (await odsSd(['inspect', fixture(v)])).json.result,
      ),
    );
    expect(states.map((s) => s.state)).toEqual(['base', 'golden', 'provisioned']);
    expect(states[0].partitions.map((p: { fs: string; label: string }) => [p.fs, p.label])).toEqual([
      ['vfat', 'RPICFG'],
      ['ext4', 'armbi_root'],
    ]);
    expect(states[0].partitions[0].start).toBe(8192);
    expect(states[2].partitions[1].usedBytes).toBeGreaterThan(0);
    void ROOT;
  });
});

describe('shrink of a card e2fsck has to repair', () => {
  it('says what e2fsck changed, in the job log and the manifest', async () => {
    const dir = scratch('shrink-fsck');
    const card = copyFixture(fixture('provisioned-booted'), dir, 'fsck-card.img');
    // A wrong free-blocks count (with a valid descriptor checksum): e2fsck -y fixes it, exit 1.
    withPartition(
      card,
      2,
      (dev) => {
        execFileSync('debugfs', ['-w', '-R', 'set_bg 1 free_blocks_count 5', dev], { stdio: 'ignore' });
        execFileSync('debugfs', ['-w', '-R', 'set_bg 1 checksum calc', dev], { stdio: 'ignore' });
      },
      true,
    );
    expect(e2fsckClean(card).output).toMatch(/Free blocks count wrong for group #1/);
    const lib = join(dir, 'lib');
    const r = await odsSd([
      'shrink',
      card,
      '--version',
      '1.0.0',
      '--tag',
      'FSCK',
      '--library',
      lib,
      '--verbose',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /e2fsck changed the root file system \(before shrinking\): .*Free blocks count wrong for group #1/,
    );
    const m = JSON.parse(readFileSync(join(lib, 'ods-atlas-clone-v1-0-0-FSCK.img.manifest.json'), 'utf8'));
    expect(m.notes.join('\n')).toMatch(
      /e2fsck changed the file system, before shrinking: .*Free blocks count wrong for group #1/,
    );
  });
});

describe('shrink of a file system resize2fs -M does not shrink', () => {
  // resize2fs -M on a fragmented card can fail ("Need N data blocks in last group") or move
  // nothing. A stand-in resize2fs ahead in PATH does exactly that for -M (every other use, -P
  // and plain resizes, runs the real tool), so the test does not depend on how a file system
  // happens to fragment.
  function fakeResize2fs(dir: string, mode: 'fail' | 'noop' | 'fail-once'): string {
    const bin = join(dir, 'bin');
    execFileSync('mkdir', ['-p', bin]);
    const real = execFileSync('bash', ['-c', 'command -v resize2fs'], { encoding: 'utf8' }).trim();
    writeFileSync(
      join(bin, 'resize2fs'),
      `#!/bin/bash
for a; do
  if [ "$a" = -M ]; then
    case ${mode} in
      fail) echo "resize2fs 1.47.0 (5-Feb-2023)"; echo "resize2fs: Need 1722 data blocks in last group" >&2; exit 1 ;;
      noop) echo "resize2fs 1.47.0 (5-Feb-2023)"; echo "The filesystem is already as small as it can be."; exit 0 ;;
      fail-once) if [ ! -e "${bin}/.failed" ]; then : >"${bin}/.failed"; echo "resize2fs: Need 1722 data blocks in last group" >&2; exit 1; fi ;;
    esac
  fi
done
exec ${real} "$@"
`,
      { mode: 0o755 },
    );
    return `${bin}:${process.env.PATH}`;
  }

  it.each([
    ['fails with "Need N data blocks in last group"', 'fail' as const, /Need 1722 data blocks in last group/],
    ['shrinks nothing', 'noop' as const, /still \d+ blocks, its minimum is \d+/],
  ])('%s: refused with the reason, nothing published', async (_what, mode, why) => {
    const dir = scratch(`shrink-stuck-${mode}`);
    const card = copyFixture(fixture('provisioned-booted'), dir, 'card.img');
    const lib = join(dir, 'lib');
    const r = await odsSd(['shrink', card, '--version', '1.0.0', '--tag', 'STUCK', '--library', lib], {
      env: { PATH: fakeResize2fs(dir, mode) },
    });
    expect(r.code).toBe(1);
    expect(r.json.error?.message).toMatch(/resize2fs -M could not shrink the root file system/);
    expect(r.json.error?.message).toMatch(why);
    expect(readdirSync(lib).filter((f) => !f.startsWith('.'))).toEqual([]);
  });

  it('retries after e2fsck -fD, and the manifest says so', async () => {
    const dir = scratch('shrink-retry');
    const card = copyFixture(fixture('provisioned-booted'), dir, 'card.img');
    const lib = join(dir, 'lib');
    const r = await odsSd(['shrink', card, '--version', '1.0.0', '--tag', 'RETRY', '--library', lib], {
      env: { PATH: fakeResize2fs(dir, 'fail-once') },
    });
    expect(r.code, r.stderr).toBe(0);
    const img = join(lib, 'ods-atlas-clone-v1-0-0-RETRY.img');
    expect(statSync(img).size).toBeLessThan(statSync(card).size);
    const m = JSON.parse(readFileSync(`${img}.manifest.json`, 'utf8'));
    expect(m.notes.join('\n')).toMatch(/file system shrunk from \d+ to \d+ blocks \(after e2fsck -fD\)/);
    expect(e2fsckClean(img).code).toBe(0);
  });
});

describe('shrink of a nearly full card', () => {
  // The root partition is 160 MiB (40960 blocks of 4 KiB); the fill makes it 91 % and 94 % used.
  it(
    '91 % used: an image smaller than the card, the file system + 5 % kept',
    { timeout: 300_000 },
    async () => {
      const dir = scratch('shrink-91');
      const card = copyFixture(fixture('provisioned-booted', { fillMiB: 115 }), dir, 'card.img');
      const lib = join(dir, 'lib');
      const r = await odsSd(['shrink', card, '--version', '1.0.0', '--tag', 'NINETY', '--library', lib]);
      expect(r.code, r.stderr).toBe(0);
      const img = join(lib, 'ods-atlas-clone-v1-0-0-NINETY.img');
      const fs = dumpe2fs(img);
      const fsSectors = (Number(fs['Block count']) * Number(fs['Block size'])) / 512;
      const t = sfdiskJson(img);
      expect(t.partitions[1]!.size).toBe(
        Math.floor((fsSectors + Math.floor((fsSectors * 5) / 100) + 7) / 8) * 8,
      );
      expect(statSync(img).size).toBeLessThan(statSync(card).size);
      expect(e2fsckClean(img).code).toBe(0);
    },
  );

  it(
    '94 % used: refused with the numbers (file system, its minimum, the card) and what to do',
    { timeout: 300_000 },
    async () => {
      const dir = scratch('shrink-94');
      const card = copyFixture(fixture('provisioned-booted', { fillMiB: 120 }), dir, 'card.img');
      const lib = join(dir, 'lib');
      const r = await odsSd(['shrink', card, '--version', '1.0.0', '--tag', 'FULL', '--library', lib]);
      expect(r.code, r.stdout).toBe(1);
      expect(r.json.ok).toBe(false);
      expect(r.json.error?.code).toBe('no-space');
      const message = r.json.error?.message ?? '';
      expect(message).toMatch(/root file system is too full to shrink/);
      expect(message).toMatch(/resize2fs -P: \d+ blocks of 4096 bytes/);
      expect(message).toContain(`root partition is 160.0 MiB`);
      expect(message).toContain(`the card ${(statSync(card).size / 1024 / 1024).toFixed(1)} MiB`);
      expect(message).toMatch(/Free at least [1-9]\d* MiB on the card .* and shrink again/);
      expect(readdirSync(lib).filter((f) => !f.startsWith('.'))).toEqual([]);
    },
  );
});
