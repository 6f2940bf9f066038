// Phase 1 Clone and Restore, run for real as root: partclone, sfdisk, pigz, e2fsprogs on
// generated card images and on loop block devices standing in for card readers.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { odsSd } from '../helpers/cli.js';
import { CLONE_SET_FILES, copyFixture, fixture, scratch } from '../helpers/fixtures.js';
import {
  attachAsDevice,
  bootChecksums,
  chkimg,
  detach,
  e2fsckClean,
  loopDevicesLeft,
  rootChecksums,
  sfdiskJson,
  sha256,
} from '../helpers/disk-tools.js';
import { startJob } from '../../src-main/core/jobs/job.js';
import { clone } from '../../src-main/core/phases/clone.js';
import { LocalBuilder } from '../../src-main/core/builder/local-builder.js';

const GiB = 1024 * 1024 * 1024;

function emptyCard(dir: string, name: string, bytes: number): string {
  const p = join(dir, name);
  writeFileSync(p, '');
  execFileSync('truncate', ['-s', String(bytes), p]);
  return p;
}

describe('ods-sd clone / restore (Phase 1)', () => {
  let dir: string;
  let lib: string;
  let source: string;
  let set: string;

  beforeAll(async () => {
    dir = scratch('clone');
    lib = join(dir, 'atlas-build');
    source = copyFixture(fixture('provisioned', { fillMiB: 24 }), dir, 'dev-card.img');
    const r = await odsSd(['clone', source, 'v8-1-0-FEATURE', '--library', lib]);
    expect(r.code, r.stderr).toBe(0);
    set = join(lib, 'golden-clone-v8-1-0-FEATURE');
  });

  it('writes the seed clone set, with intact partclone images and a manifest', () => {
    expect(readdirSync(set).sort()).toEqual(CLONE_SET_FILES);
    expect(readFileSync(join(set, 'partition-table.dump'), 'utf8')).toBe(
      execFileSync('sfdisk', ['--dump', source], { encoding: 'utf8' }),
    );
    expect(chkimg(join(set, 'sdc1-boot.partclone.gz'))).toBe(0);
    expect(chkimg(join(set, 'sdc2-root.partclone.gz'))).toBe(0);
    const m = JSON.parse(readFileSync(join(set, 'manifest.json'), 'utf8'));
    expect(m).toMatchObject({
      kind: 'clone-set',
      phase: 1,
      version: '8.1.0',
      tag: 'FEATURE',
      sourceState: 'provisioned',
    });
    for (const f of m.files) expect(sha256(join(set, f.name))).toBe(f.sha256);
    // partclone keeps only used blocks: the set is far smaller than the card.
    const setBytes = m.files.reduce((a: number, f: { bytes: number }) => a + f.bytes, 0);
    expect(setBytes).toBeLessThan(m.source.bytes / 10);
  });

  it('restores onto a larger card: same files, root grown to the end, clean file system', async () => {
    const card = emptyCard(dir, 'new-card.img', 2 * GiB);
    const r = await odsSd(['restore', card, 'v8-1-0-FEATURE', '--library', lib, '--yes']);
    expect(r.code, r.stderr).toBe(0);
    const t = sfdiskJson(card);
    const s = sfdiskJson(source);
    expect(t.partitions[0]).toMatchObject({ start: s.partitions[0]!.start, size: s.partitions[0]!.size });
    expect(t.partitions[1]!.start).toBe(s.partitions[1]!.start);
    expect(t.partitions[1]!.start + t.partitions[1]!.size).toBe((2 * GiB) / 512);
    expect(e2fsckClean(card).code).toBe(0);
    expect(rootChecksums(card)).toEqual(rootChecksums(source));
    expect(bootChecksums(card)).toEqual(bootChecksums(source));
    expect(r.json.result).toMatchObject({ grown: true, rootSectors: t.partitions[1]!.size });
  });

  it('the restore_golden.sh inside the set works standalone, as in the seed', () => {
    const card = emptyCard(dir, 'standalone.img', 1 * GiB);
    const r = spawnSync('bash', [join(set, 'restore_golden.sh'), card], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(e2fsckClean(card).code).toBe(0);
    expect(rootChecksums(card)).toEqual(rootChecksums(source));
    expect(sfdiskJson(card).partitions[1]!.size + sfdiskJson(card).partitions[1]!.start).toBe(GiB / 512);
  });

  it('a received set whose dump sfdisk would read otherwise is refused by the app and by its script, before writing', async () => {
    // sfdisk accepts fields in any order; positional readers would see this root as size 0 and
    // restore boot over the whole card. The set's own checksums are made to match the change.
    const received = join(lib, 'golden-clone-v8-1-0-RECEIVED');
    cpSync(set, received, { recursive: true });
    const dumpPath = join(received, 'partition-table.dump');
    const swapped = readFileSync(dumpPath, 'utf8').replace(
      /(start=\s*\d+), (size=\s*\d+), (type=\w+)/g,
      '$1, $3, $2',
    );
    writeFileSync(dumpPath, swapped);
    const m = JSON.parse(readFileSync(join(received, 'manifest.json'), 'utf8'));
    for (const f of m.files) if (f.name === 'partition-table.dump') f.sha256 = sha256(dumpPath);
    writeFileSync(join(received, 'manifest.json'), JSON.stringify(m, null, 2));
    const card = emptyCard(dir, 'received-target.img', 1 * GiB);
    writeFileSync(card, Buffer.alloc(4096, 0xa5), { flag: 'r+' });
    const before = sha256(card);

    const r = await odsSd(['restore', card, 'v8-1-0-RECEIVED', '--library', lib, '--yes']);
    expect(r.code).toBe(2);
    expect(r.json.error).toMatchObject({ code: 'bad-input' });
    expect(r.json.error?.message).toMatch(
      /partition-table.dump is not a partition table .*line \d+ is not one sfdisk writes/,
    );
    expect(sha256(card)).toBe(before);

    const standalone = spawnSync('bash', [join(received, 'restore_golden.sh'), card], { encoding: 'utf8' });
    expect(standalone.status).toBe(2);
    expect(standalone.stderr).toMatch(
      /partition-table.dump is not a partition table .*line \d+ is not one sfdisk writes/,
    );
    expect(sha256(card)).toBe(before);
  });

  describe('with block devices (loop devices standing in for card readers)', () => {
    let srcDev: string;
    let dstDev: string;
    beforeAll(() => {
      srcDev = attachAsDevice(source);
      dstDev = attachAsDevice(emptyCard(dir, 'device-card.img', 1536 * 1024 * 1024));
    });
    afterAll(() => {
      detach(srcDev);
      detach(dstDev);
    });

    it('clones a device and restores onto another device', { timeout: 300_000 }, async () => {
      const c = await odsSd(['clone', srcDev, 'from-device', '--library', lib]);
      expect(c.code, c.stderr).toBe(0);
      expect(c.json.result.dir).toBe(join(lib, 'golden-clone-from-device'));
      const r = await odsSd(['restore', dstDev, 'from-device', '--library', lib, '--yes']);
      expect(r.code, r.stderr).toBe(0);
      expect(e2fsckClean(dstDev).code).toBe(0);
      expect(rootChecksums(dstDev)).toEqual(rootChecksums(source));
      expect(bootChecksums(dstDev, true)).toEqual(bootChecksums(source));
      const t = sfdiskJson(dstDev);
      expect(t.partitions[1]!.start + t.partitions[1]!.size).toBe((1536 * 1024 * 1024) / 512);
    });
  });

  it('clones and restores a GPT card, keeping a valid backup table', { timeout: 300_000 }, async () => {
    const gpt = copyFixture(fixture('provisioned', { label: 'gpt' }), dir, 'gpt-card.img');
    const c = await odsSd(['clone', gpt, 'gpt-set', '--library', lib]);
    expect(c.code, c.stderr).toBe(0);
    const card = emptyCard(dir, 'gpt-target.img', 1 * GiB);
    const r = await odsSd(['restore', card, 'gpt-set', '--library', lib, '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(sfdiskJson(card).label).toBe('gpt');
    expect(spawnSync('sfdisk', ['--verify', card], { encoding: 'utf8' }).status).toBe(0);
    expect(e2fsckClean(card).code).toBe(0);
    expect(rootChecksums(card)).toEqual(rootChecksums(gpt));
  });

  it('refuses a card smaller than the clone before writing anything', async () => {
    const card = emptyCard(dir, 'tiny.img', 300 * 1024 * 1024);
    execFileSync('bash', ['-c', 'printf "old data" | dd of="$1" conv=notrunc status=none', 'x', card]);
    const before = sha256(card);
    const r = await odsSd(['restore', card, 'v8-1-0-FEATURE', '--library', lib, '--yes']);
    expect(r.code).toBe(2);
    expect(r.json.error?.code).toBe('too-small');
    expect(r.json.error?.message).toMatch(/too small/);
    expect(sha256(card)).toBe(before);
  });

  it('needs --yes to overwrite a card when there is no terminal', async () => {
    const card = emptyCard(dir, 'unconfirmed.img', 1 * GiB);
    const r = await odsSd(['restore', card, 'v8-1-0-FEATURE', '--library', lib]);
    expect(r.code).toBe(2);
    expect(r.json.error?.message).toMatch(/--yes/);
    expect(sha256(card)).toBe(sha256(emptyCard(dir, 'zero-ref.img', 1 * GiB)));
  });

  it('refuses a missing clone set and an incomplete one', async () => {
    const card = emptyCard(dir, 'c.img', 1 * GiB);
    const missing = await odsSd(['restore', card, 'does-not-exist', '--library', lib, '--yes']);
    expect(missing.code).toBe(2);
    expect(missing.json.error?.code).toBe('not-found');
    const broken = join(lib, 'golden-clone-broken');
    mkdirSync(broken, { recursive: true });
    writeFileSync(join(broken, 'partition-table.dump'), readFileSync(join(set, 'partition-table.dump')));
    const incomplete = await odsSd(['restore', card, 'broken', '--library', lib, '--yes']);
    expect(incomplete.code).toBe(2);
    expect(incomplete.json.error?.message).toMatch(/sdc1-boot.partclone.gz/);
  });

  for (const bad of ['my backup', 'it"s', 'a;b', '$(reboot)', '../escape', 'x/y']) {
    it(`refuses the clone name ${JSON.stringify(bad)}`, async () => {
      const before = readdirSync(lib).sort();
      const r = await odsSd(['clone', source, bad, '--library', lib]);
      expect(r.code).toBe(2);
      expect(r.json.error?.code).toBe('bad-input');
      expect(r.json.error?.hint).toMatch(/letters, digits/);
      expect(readdirSync(lib).sort()).toEqual(before);
      expect(existsSync(join(dir, 'escape'))).toBe(false);
    });
  }

  it('refuses to overwrite an existing clone set', async () => {
    const before = readFileSync(join(set, 'manifest.json'), 'utf8');
    const r = await odsSd(['clone', source, 'v8-1-0-FEATURE', '--library', lib]);
    expect(r.code).toBe(2);
    expect(r.json.error?.code).toBe('exists');
    expect(readFileSync(join(set, 'manifest.json'), 'utf8')).toBe(before);
  });

  it('refuses a card without an ext4 root', async () => {
    const r = await odsSd(['clone', fixture('no-ext4'), 'no-root', '--library', lib]);
    expect(r.code).toBe(2);
    expect(r.json.error?.code).toBe('unsupported');
    expect(existsSync(join(lib, 'golden-clone-no-root'))).toBe(false);
    expect(existsSync(join(lib, 'golden-clone-no-root.partial'))).toBe(false);
  });

  it('when the work dir runs out of space, fails clearly and leaves no clone set behind', async () => {
    const small = join(dir, 'small-lib');
    mkdirSync(small, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=12m', 'tmpfs', small]);
    try {
      const r = await odsSd(['clone', source, 'full-disk', '--library', small]);
      expect(r.code).toBe(1);
      expect(r.json.error?.code).toBe('no-space');
      expect(r.json.error?.hint).toMatch(/free some space/);
      expect(readdirSync(small).filter((f) => !f.startsWith('.'))).toEqual([]);
      expect(await loopDevicesLeft(source)).toEqual([]);
    } finally {
      execFileSync('umount', [small]);
    }
  });

  it('cancelling a running clone stops the tools and leaves nothing half-written', async () => {
    const env = { builder: new LocalBuilder(), library: lib };
    const job = startJob('clone', (ctx) => clone(env, { card: source, name: 'cancelled' }, ctx));
    job.on('event', (e) => {
      if (e.type === 'step' && e.step.id === 'clone-root') job.cancel();
    });
    await expect(job.promise).rejects.toMatchObject({ code: 'cancelled' });
    expect(job.state).toBe('cancelled');
    expect(existsSync(join(lib, 'golden-clone-cancelled'))).toBe(false);
    expect(existsSync(join(lib, 'golden-clone-cancelled.partial'))).toBe(false);
    // The script's cleanup ran: no loop device is left on the card.
    expect(await loopDevicesLeft(source)).toEqual([]);
  });

  it('lists the clone sets in the library', async () => {
    const r = await odsSd(['list', '--library', lib]);
    expect(r.code).toBe(0);
    const names = r.json.result.entries.map((e: { name: string }) => e.name);
    expect(names).toContain('golden-clone-v8-1-0-FEATURE');
    const e = r.json.result.entries.find((x: { name: string }) => x.name === 'golden-clone-v8-1-0-FEATURE');
    expect(e).toMatchObject({
      kind: 'clone-set',
      phase: 1,
      version: '8.1.0',
      tag: 'FEATURE',
      hasManifest: true,
      missing: [],
    });
  });
});
