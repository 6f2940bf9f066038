// The target guards, run for real on loop devices standing in for card readers: a card whose file
// system holds the library, a mounted card, a busy mount, a loop device attached over the card, a
// holder only an exclusive open sees, a disk larger than any SD card, and eject.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { odsSd } from '../helpers/cli.js';
import { copyFixture, fixture, ROOT, scratch } from '../helpers/fixtures.js';
import {
  attachAsDevice,
  detach,
  e2fsckClean,
  loopDevicesFor,
  rootChecksums,
  sfdiskJson,
  sha256,
} from '../helpers/disk-tools.js';
import { listCards } from '../../src-main/core/cards/drive-list.js';
import { checkTarget, ejectTarget, unmountDisk } from '../../src-main/core/cards/target-guards.js';
import { HELPER_PATH } from '../../src-main/core/card-io/card-reads.js';

const MiB = 1024 * 1024;
const isMounted = (path: string) => spawnSync('mountpoint', ['-q', path]).status === 0;

describe('target guards on loop cards', () => {
  let dir: string;
  let image: string;
  let size: number;
  const cleanups: Array<() => void> = [];

  beforeAll(() => {
    dir = scratch('guards');
    image = copyFixture(fixture('provisioned'), dir, 'ods-atlas-clone-v1-0-0-TEST.img');
    size = statSync(image).size;
  });
  afterEach(() => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        c();
      } catch {
        /* already gone */
      }
    }
  });

  /** A card holding a base image (not what is flashed), in a loop "reader". */
  function loopCard(name: string): { backing: string; dev: string } {
    const backing = copyFixture(fixture('base'), dir, `${name}.img`);
    execFileSync('truncate', ['-s', String(size + 32 * MiB), backing]);
    const dev = attachAsDevice(backing);
    cleanups.push(() => detach(dev));
    return { backing, dev };
  }

  /** The card's root partition mounted read-write the usual way for a partition of a loop card. */
  function mountRoot(card: { backing: string; dev: string }, name: string): string {
    const p = sfdiskJson(card.backing).partitions[1]!;
    const mnt = join(dir, `${name}-mnt`);
    mkdirSync(mnt, { recursive: true });
    execFileSync('mount', ['-o', `loop,offset=${p.start * 512},sizelimit=${p.size * 512}`, card.dev, mnt]);
    cleanups.push(() => {
      if (isMounted(mnt)) execFileSync('umount', [mnt]);
    });
    return mnt;
  }

  /** Marks the card's unused first MiB (after the table), which any flash overwrites. */
  function mark(card: { backing: string }): void {
    const fd = openSync(card.backing, 'r+');
    writeSync(fd, Buffer.alloc(MiB - 4096, 0xa5), 0, MiB - 4096, 4096);
    closeSync(fd);
  }
  const marked = (card: { backing: string }) => {
    const fd = openSync(card.backing, 'r');
    const buf = Buffer.alloc(MiB - 4096);
    readSync(fd, buf, 0, buf.length, 4096);
    closeSync(fd);
    return buf.every((b) => b === 0xa5);
  };

  it('refuses a card whose mounted file system holds the library, and leaves it mounted and unwritten', async () => {
    const card = loopCard('library-card');
    mark(card);
    const mnt = mountRoot(card, 'library');
    const library = join(mnt, 'atlas-build');
    mkdirSync(library);
    const r = await odsSd(['flash', image, card.dev, '--yes', '--library', library]);
    expect(r.code, r.stdout).toBe(2);
    expect(r.json.error).toMatchObject({ code: 'unsafe-target' });
    expect(r.json.error?.message).toContain(`holds the library (${library})`);
    expect(isMounted(mnt)).toBe(true);
    expect(marked(card)).toBe(true);
    // The app's card list and the privileged helper give the same reason.
    const cards = await listCards({
      list: async () => [drive(card.dev)],
      platform: 'linux',
      allowVirtual: true,
      places: [{ what: 'the library', path: library }],
    });
    expect(cards[0]).toMatchObject({ usable: false });
    expect(cards[0]!.reasons.join(' ')).toMatch(/holds the library/);
    const helper = await askHelper({
      op: 'write',
      device: card.dev,
      expect: { bytes: size + 32 * MiB },
      source: image,
      verify: true,
      places: [{ what: 'the library', path: library }],
    });
    expect(helper.last).toMatchObject({ event: 'error', code: 'unsafe-target' });
    expect(String(helper.last?.message)).toContain(`holds the library (${library})`);
    expect(marked(card)).toBe(true);
  });

  it('unmounts a mounted card that holds nothing of ours, then writes it', async () => {
    const card = loopCard('mounted-card');
    const mnt = mountRoot(card, 'mounted');
    const r = await odsSd(['flash', image, card.dev, '--yes', '--library', join(dir, 'lib')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.result.cards[0]).toMatchObject({ ok: true, verified: true });
    expect(isMounted(mnt)).toBe(false);
    // The loop device of the mount went with it; only the reader is left.
    expect(loopDevicesFor(card.backing)).toHaveLength(1);
    expect(e2fsckClean(card.dev).code).toBe(0);
    expect(rootChecksums(card.dev)).toEqual(rootChecksums(image));
  });

  it('writes nothing when the card cannot be unmounted', async () => {
    const card = loopCard('busy-card');
    mark(card);
    const mnt = mountRoot(card, 'busy');
    const busy = spawn('sleep', ['120'], { cwd: mnt, stdio: 'ignore' });
    cleanups.push(() => busy.kill());
    const r = await odsSd(['flash', image, card.dev, '--yes', '--library', join(dir, 'lib')]);
    expect(r.code).toBe(2);
    expect(r.json.error?.message).toMatch(/could not be unmounted.*nothing was written/);
    expect(isMounted(mnt)).toBe(true);
    busy.kill();
    await new Promise((res) => busy.once('close', res));
    expect(marked(card)).toBe(true);
  });

  it('restore is guarded the same way: a card holding the library is refused before anything runs', async () => {
    const card = loopCard('restore-card');
    mark(card);
    const mnt = mountRoot(card, 'restore');
    const library = join(mnt, 'atlas-build');
    // A clone set in that library, complete enough to reach the card checks.
    const set = join(library, 'golden-clone-v1-0-0-GUARD');
    mkdirSync(set, { recursive: true });
    writeFileSync(
      join(set, 'partition-table.dump'),
      'label: dos\n/dev/sdc1 : start=8192, size=8192, type=c\n/dev/sdc2 : start=16384, size=8192, type=83\n',
    );
    for (const f of ['sdc1-boot.partclone.gz', 'sdc2-root.partclone.gz']) writeFileSync(join(set, f), 'x');
    const r = await odsSd(['restore', card.dev, 'v1-0-0-GUARD', '--yes', '--library', library]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.json.error?.message).toContain(`holds the library (${library})`);
    expect(isMounted(mnt)).toBe(true);
    expect(marked(card)).toBe(true);
  });

  it('refuses a card with another loop device attached over it', { timeout: 300_000 }, async () => {
    const card = loopCard('held-card');
    const over = attachAsDevice(card.dev);
    cleanups.push(() => detach(over));
    const before = sha256(card.backing);
    const r = await odsSd(['flash', image, card.dev, '--yes', '--library', join(dir, 'lib')]);
    expect(r.code).toBe(2);
    expect(r.json.error?.message).toContain(`has the loop device ${over} attached over it`);
    expect(r.json.error?.hint).toContain(`losetup -d ${over}`);
    expect(sha256(card.backing)).toBe(before);
  });

  it('refuses a partition of a disk, under whatever name its node has, and writes nothing', async () => {
    const backing = copyFixture(fixture('base'), dir, 'partitioned.img');
    const dev = attachAsDevice(backing);
    cleanups.push(() => detach(dev));
    // The kernel lists the card's partitions in sysfs (no /dev node appears for them here). partx
    // says "error adding partitions" when the kernel already lists them: sysfs is what counts.
    const name = dev.replace('/dev/', '');
    spawnSync('partx', ['-a', dev]);
    cleanups.push(() => spawnSync('partx', ['-d', dev]));
    expect(existsSync(`/sys/class/block/${name}p2`), `the kernel lists no partition 2 of ${dev}`).toBe(true);
    // A node for partition 2, under another name.
    const [major, minor] = execFileSync('cat', [`/sys/class/block/${name}p2/dev`], { encoding: 'utf8' })
      .trim()
      .split(':');
    const node = join(dir, 'some-card');
    execFileSync('mknod', [node, 'b', major!, minor!]);
    cleanups.push(() => execFileSync('rm', ['-f', node]));
    const before = sha256(backing);
    const reasons = await checkTarget(node);
    expect(reasons).toEqual([expect.objectContaining({ severity: 'refuse' })]);
    expect(reasons[0]!.message).toBe(`is a partition of /dev/${name}, not a whole card`);
    const r = await odsSd(['flash', image, node, '--yes']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.json.error?.message).toMatch(new RegExp(`is a partition of /dev/${name}, not a whole card`));
    expect(r.json.error?.hint).toMatch(new RegExp(`pick the whole card \\(/dev/${name}\\)`));
    expect(sha256(backing)).toBe(before);
  });

  it('refuses a card another program holds exclusively (seen only by the O_EXCL open)', async () => {
    const card = loopCard('excl-card');
    const holder = holdExclusive(card.dev);
    cleanups.push(() => holder.kill());
    await new Promise((res) => holder.stdout!.once('data', res));
    // Nothing in sysfs or mountinfo says so…
    expect((await checkTarget(card.dev)).filter((r) => r.severity !== 'release')).toEqual([]);
    const before = sha256(card.backing);
    // …the exclusive open does.
    const r = await odsSd(['flash', image, card.dev, '--yes', '--library', join(dir, 'lib')]);
    expect(r.code).toBe(2);
    expect(r.json.error?.message).toMatch(/is in use .*nothing was written/);
    expect(sha256(card.backing)).toBe(before);
  });

  it('a disk larger than any SD card needs --allow-large-disk, even with --yes', async () => {
    const backing = join(dir, 'huge.img');
    writeFileSync(backing, '');
    execFileSync('truncate', ['-s', '300G', backing]); // sparse: nothing is stored
    const dev = attachAsDevice(backing);
    cleanups.push(() => detach(dev));
    const refused = await odsSd(['flash', image, dev, '--yes', '--library', join(dir, 'lib')]);
    expect(refused.code).toBe(2);
    expect(refused.json.error?.message).toMatch(/322\.1 GB: larger than any SD card/);
    expect(refused.json.error?.hint).toMatch(/--allow-large-disk/);
    expect(statSync(backing).blocks).toBe(0);
    // The card list shows it as usable only after its own confirmation (drivelist skips loop
    // devices, so it is handed in as drivelist reports a disk).
    const [listed] = await listCards({
      list: async () => [drive(dev)],
      platform: 'linux',
      allowVirtual: true,
    });
    expect(listed).toMatchObject({ usable: true, confirm: expect.stringMatching(/larger than any SD card/) });
    const ok = await odsSd([
      'flash',
      image,
      dev,
      '--yes',
      '--allow-large-disk',
      '--library',
      join(dir, 'lib'),
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json.result.cards[0]).toMatchObject({ ok: true, verified: true });
    expect(rootChecksums(dev)).toEqual(rootChecksums(image));
  });

  it('ejects after the write and says what it did; --no-eject keeps the card', async () => {
    const card = loopCard('eject-card');
    const r = await odsSd(['flash', image, card.dev, '--yes', '--library', join(dir, 'lib')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.result.cards[0].eject).toEqual({
      ejected: false,
      message: `flushed; ${card.dev} is a loop device, there is nothing to eject`,
    });
    expect(r.stdout).toContain('there is nothing to eject');
    const kept = await odsSd([
      'flash',
      image,
      card.dev,
      '--yes',
      '--no-eject',
      '--library',
      join(dir, 'lib'),
    ]);
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.json.result.cards[0].eject).toBeUndefined();
    expect(await odsSd(['flash', '--help'])).toMatchObject({ stdout: expect.stringMatching(/--no-eject/) });
  });
});

describe('eject on macOS (diskutil test double)', () => {
  let dir: string;
  let dev: string;
  let backing: string;
  beforeAll(() => {
    dir = scratch('guards-mac');
    backing = join(dir, 'mac-card.img');
    writeFileSync(backing, '');
    execFileSync('truncate', ['-s', String(64 * MiB), backing]);
    dev = attachAsDevice(backing);
    writeFileSync(join(dir, 'map.json'), JSON.stringify({ disk4: dev }));
    process.env.ATLAS_DISKUTIL_DOUBLE_MAP = join(dir, 'map.json');
  });
  afterAll(() => {
    delete process.env.ATLAS_DISKUTIL_DOUBLE_MAP;
    if (loopDevicesFor(backing).length) detach(dev);
  });

  it('diskutil eject takes the card away, and the result says so', async () => {
    const diskutil = { diskutil: join(ROOT, 'test', 'doubles', 'bin', 'diskutil'), settleMs: 0 };
    const r = await ejectTarget('/dev/disk4', { platform: 'darwin', diskutil });
    expect(r).toEqual({ ejected: true, message: 'Disk /dev/disk4 ejected' });
    expect(loopDevicesFor(backing)).toEqual([]);
    // Ejected, disk4 names nothing any more (the freed loop device may already serve a test
    // running beside this one).
    const gone = await ejectTarget('/dev/disk4', { platform: 'darwin', diskutil });
    expect(gone).toEqual({
      ejected: false,
      message: expect.stringMatching(/^not ejected: .*Could not find disk/),
    });
  });
});

describe('DiskArbitration on macOS (diskutil test double)', () => {
  const diskutil = { diskutil: join(ROOT, 'test', 'doubles', 'bin', 'diskutil'), settleMs: 0 };
  let dir: string;
  let dev: string;
  let backing: string;
  beforeAll(() => {
    dir = scratch('guards-da');
    backing = join(dir, 'fresh-card.img');
    writeFileSync(backing, '');
    execFileSync('truncate', ['-s', String(64 * MiB), backing]);
    execFileSync('mkfs.ext4', ['-q', '-F', '-L', 'NEWCARD', backing]);
    dev = attachAsDevice(backing);
    // Finder and Spotlight hold a card that was just inserted: a plain unmount is refused.
    writeFileSync(join(dir, 'map.json'), JSON.stringify({ disk5: { loop: dev, busy: true } }));
    process.env.ATLAS_DISKUTIL_DOUBLE_MAP = join(dir, 'map.json');
  });
  afterAll(() => {
    delete process.env.ATLAS_DISKUTIL_DOUBLE_MAP;
    spawnSync('bash', [
      '-c',
      'for m in "$1"/diskutil-double-state/Volumes-*; do umount -l "$m"; done',
      'u',
      dir,
    ]);
    if (loopDevicesFor(backing).length) detach(dev);
  });

  it('a fresh card held by Finder is unmounted (forced); after the write, the re-mounted card is ejected', async () => {
    const mnt = join(dir, 'Volumes', 'NEWCARD');
    mkdirSync(mnt, { recursive: true });
    execFileSync('mount', [dev, mnt]);
    const plain = spawnSync(diskutil.diskutil, ['unmountDisk', 'disk5'], { encoding: 'utf8' });
    expect(plain.status).toBe(1);
    expect(plain.stderr).toContain('Unmount of disk5 failed: at least one volume could not be unmounted');
    await unmountDisk('/dev/disk5', { ...diskutil, platform: 'darwin' });
    expect(isMounted(mnt)).toBe(false);

    // The write (as the raw-disk helper does it): the start of a card image, its table and boot partition.
    const image = fixture('provisioned');
    execFileSync('dd', [`if=${image}`, `of=${dev}`, 'bs=1M', 'count=8', 'conv=notrunc,fsync', 'status=none']);
    const r = await ejectTarget('/dev/disk5', { platform: 'darwin', diskutil });
    expect(r).toEqual({ ejected: true, message: 'Disk /dev/disk5 ejected' });
    expect(loopDevicesFor(backing)).toEqual([]);
    expect(readFileSync('/proc/self/mounts', 'utf8')).not.toContain(dir);
  });
});

/** A drivelist entry for a loop device, as drivelist reports one on Linux. */
function drive(dev: string) {
  return {
    device: dev,
    displayName: dev,
    description: 'loop card',
    size: Number(execFileSync('blockdev', ['--getsize64', dev], { encoding: 'utf8' })),
    mountpoints: [],
    raw: dev,
    protected: false,
    system: false,
    isSystem: false,
    isVirtual: true,
    isRemovable: true,
    isReadOnly: false,
    isCard: false,
    isScsi: false,
    isUSB: false,
    isUAS: null,
    busType: 'VIRTUAL',
    busVersion: null,
    blockSize: 512,
    logicalBlockSize: 512,
    partitionTableType: null,
    devicePath: null,
    enumerator: 'loop',
    error: null,
  };
}

/** A process holding `dev` open with O_EXCL (as another flasher or a kernel holder would). */
function holdExclusive(dev: string): ChildProcess {
  const code = `const fs=require('fs');fs.openSync(${JSON.stringify(dev)},fs.constants.O_RDONLY|fs.constants.O_EXCL);process.stdout.write('held\\n');setInterval(()=>{},1000);`;
  return spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'ignore'] });
}

/** One request to the raw-disk helper process, in its own protocol. */
function askHelper(request: unknown): Promise<{ code: number | null; last?: Record<string, unknown> }> {
  expect(existsSync(HELPER_PATH), 'npm run build first').toBe(true);
  return new Promise((resolve) => {
    const env = { ...process.env };
    for (const k of ['SUDO_UID', 'SUDO_GID', 'SUDO_USER', 'PKEXEC_UID']) delete env[k];
    const child = spawn(process.execPath, [HELPER_PATH], { env, stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stdin.write(`${JSON.stringify(request)}\n`);
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop();
      resolve({ code, ...(last ? { last: JSON.parse(last) as Record<string, unknown> } : {}) });
    });
  });
}
