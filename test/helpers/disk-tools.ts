/**
 * Independent checks with the real tools (sfdisk, e2fsck, debugfs, mtools, partclone.chkimg,
 * sha256), used by the integration tests to judge what the app produced. Nothing here uses the
 * app's own code.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';
import { expect } from 'vitest';

export interface SfdiskPartition {
  node: string;
  start: number;
  size: number;
  type: string;
}
export interface SfdiskTable {
  label: string;
  partitions: SfdiskPartition[];
  lastlba?: number;
}

export function sfdiskJson(path: string): SfdiskTable {
  const out = execFileSync('sfdisk', ['--json', path], { encoding: 'utf8' });
  return (JSON.parse(out) as { partitiontable: SfdiskTable }).partitiontable;
}

export function sha256(path: string): string {
  return execFileSync('sha256sum', [path], { encoding: 'utf8' }).split(' ')[0]!;
}

/** Runs fn with a read-only (or rw) loop device over partition n of an image or device. */
export function withPartition<T>(img: string, n: number, fn: (dev: string) => T, rw = false): T {
  const p = sfdiskJson(img).partitions[n - 1];
  if (!p) throw new Error(`no partition ${n} in ${img}`);
  const args = ['--find', '--show', '--offset', String(p.start * 512), '--sizelimit', String(p.size * 512)];
  if (!rw) args.push('--read-only');
  const dev = execFileSync('losetup', [...args, img], { encoding: 'utf8' }).trim();
  try {
    return fn(dev);
  } finally {
    execFileSync('losetup', ['-d', dev]);
  }
}

/** e2fsck -fn on partition n: returns its exit code (0 = clean) and output. */
export function e2fsckClean(img: string, n = 2): { code: number; output: string } {
  return withPartition(img, n, (dev) => {
    const r = spawnSync('e2fsck', ['-fn', dev], { encoding: 'utf8' });
    return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
  });
}

export function dumpe2fs(img: string, n = 2): Record<string, string> {
  return withPartition(img, n, (dev) => {
    const out = execFileSync('dumpe2fs', ['-h', dev], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const fields: Record<string, string> = {};
    for (const line of out.split('\n')) {
      const i = line.indexOf(':');
      if (i > 0) fields[line.slice(0, i).trim()] = line.slice(i + 1).trim();
    }
    return fields;
  });
}

/** debugfs stat of a path in the ext4 root: mode (octal string), uid, gid, type, link target. */
export function debugfsStat(
  img: string,
  path: string,
): { mode: string; uid: number; gid: number; type: string; target?: string } | undefined {
  return withPartition(img, 2, (dev) => {
    const r = spawnSync('debugfs', ['-R', `stat ${path}`, dev], { encoding: 'utf8' });
    const out = r.stdout;
    const m = /Type: (\S+)\s+Mode:\s+(\d+)/.exec(out);
    if (!m) return undefined;
    const uid = /User:\s+(\d+)/.exec(out);
    const gid = /Group:\s+(\d+)/.exec(out);
    const target = /Fast link dest: "(.*)"/.exec(out);
    return {
      type: m[1]!,
      mode: m[2]!,
      uid: Number(uid?.[1]),
      gid: Number(gid?.[1]),
      ...(target ? { target: target[1]! } : {}),
    };
  });
}

export function debugfsCat(img: string, path: string): string {
  return withPartition(img, 2, (dev) =>
    execFileSync('debugfs', ['-R', `cat ${path}`, dev], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }),
  );
}

/** mtools view of the FAT boot partition (image files only). */
export function fatSpec(img: string): string {
  const p = sfdiskJson(img).partitions[0]!;
  return `${img}@@${p.start * 512}`;
}

export function mtype(img: string, file: string): string {
  return execFileSync('mtype', ['-i', fatSpec(img), `::${file}`], { encoding: 'utf8' });
}

export function fatLabel(img: string): string {
  return execFileSync('mlabel', ['-s', '-i', fatSpec(img), '::'], { encoding: 'utf8' }).trim();
}

function walk(dir: string, root: string, out: Map<string, string>): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    const rel = relative(root, p);
    if (st.isSymbolicLink()) out.set(rel, `link:${readlinkSync(p)}`);
    else if (st.isDirectory()) walk(p, root, out);
    else if (st.isFile())
      out.set(
        rel,
        `${(st.mode & 0o7777).toString(8)}:${st.uid}:${createHash('sha256').update(readFileSync(p)).digest('hex')}`,
      );
  }
}

/** sha256 (+ mode, owner) of every file of the ext4 root, read through a read-only mount. */
export function rootChecksums(img: string): Map<string, string> {
  return withPartition(img, 2, (dev) => {
    const mnt = mkdtempSync(join(tmpdir(), 'atlas-test-mnt-'));
    execFileSync('mount', ['-t', 'ext4', '-o', 'ro,noload', dev, mnt]);
    try {
      const out = new Map<string, string>();
      walk(mnt, mnt, out);
      out.delete('lost+found');
      return out;
    } finally {
      execFileSync('umount', [mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  });
}

/** sha256 of every file of the FAT boot partition (copied out with mcopy). */
export function bootChecksums(img: string, useDevice = false): Map<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'atlas-test-fat-'));
  try {
    if (useDevice) {
      withPartition(img, 1, (dev) => execFileSync('mcopy', ['-s', '-n', '-i', dev, '::/*', dir]));
    } else {
      execFileSync('mcopy', ['-s', '-n', '-i', fatSpec(img), '::/*', dir]);
    }
    const out = new Map<string, string>();
    walk(dir, dir, out);
    // mcopy sets its own mode/owner: compare content only.
    for (const [k, v] of out) out.set(k, v.split(':').pop()!);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** partclone.chkimg on a gzipped partclone image: exit code 0 when the image is intact. */
export function chkimg(gz: string): number {
  const r = spawnSync('bash', ['-c', 'pigz -dc -- "$1" | partclone.chkimg -s - ', 'chk', gz], {
    encoding: 'utf8',
  });
  return r.status ?? -1;
}

/**
 * Loop devices still attached to `file`, after giving the kernel up to 3 s to finish detaching:
 * `losetup -d` on a device that a just-killed process still holds open detaches it lazily.
 */
export async function loopDevicesLeft(file: string): Promise<string[]> {
  for (let i = 0; i < 30; i++) {
    if (loopDevicesFor(file).length === 0) return [];
    await new Promise((r) => setTimeout(r, 100));
  }
  return loopDevicesFor(file);
}

export function loopDevicesFor(file: string): string[] {
  const out = execFileSync('losetup', ['-j', file], { encoding: 'utf8' }).trim();
  return out ? out.split('\n') : [];
}

/** Attaches a whole image as a block device (a stand-in SD card reader); returns /dev/loopN. */
export function attachAsDevice(img: string): string {
  return execFileSync('losetup', ['--find', '--show', img], { encoding: 'utf8' }).trim();
}

/**
 * Attaches `img` to a loop device numbered from 200 up, made if missing, which `losetup --find`
 * (every other test, the other disk lane) hands out only once all below it are taken: a test that
 * detaches it and attaches another image to the same device gets it back.
 */
export function attachAsOwnDevice(img: string): string {
  for (let n = 200; n < 300; n++) {
    const dev = `/dev/loop${n}`;
    if (!existsSync(dev)) execFileSync('mknod', [dev, 'b', '7', String(n)]);
    if (spawnSync('losetup', [dev, img]).status === 0) return dev;
  }
  throw new Error('no loop device free from /dev/loop200 to /dev/loop299');
}

export function detach(dev: string): void {
  execFileSync('losetup', ['-d', dev]);
}

const MiB = 1024 * 1024;

/** A sparse file of `bytes`, with `fill` (a byte, or random data) written at the given MiB offsets. */
export function makeFile(
  path: string,
  bytes: number,
  regions: Array<[offsetMiB: number, MiBs: number, fill: number | 'random']>,
): string {
  writeFileSync(path, '');
  execFileSync('truncate', ['-s', String(bytes), path]);
  const fd = openSync(path, 'r+');
  for (const [at, n, fill] of regions) {
    for (let i = 0; i < n; i++) {
      writeSync(fd, fill === 'random' ? randomBytes(MiB) : Buffer.alloc(MiB, fill), 0, MiB, (at + i) * MiB);
    }
  }
  closeSync(fd);
  return path;
}

/**
 * A card that held other data: `mib` MiB of the byte `fill` everywhere, then (if given) `image`
 * written over its start, its zero blocks skipped so the old data stays in its free space.
 */
export function usedCard(path: string, mib: number, fill: number, image?: string): string {
  makeFile(path, mib * MiB, [[0, mib, fill]]);
  if (image) execFileSync('dd', [`if=${image}`, `of=${path}`, 'bs=1M', 'conv=notrunc,sparse', 'status=none']);
  return path;
}

/** `target` holds `source` with its root grown to the end of the card: the same files, clean. */
export function expectGrownCopy(target: string, source: string, cardBytes: number): void {
  const t = sfdiskJson(target);
  expect(t.partitions[1]!.start + t.partitions[1]!.size).toBe(cardBytes / 512);
  expect(e2fsckClean(target).code).toBe(0);
  expect(rootChecksums(target)).toEqual(rootChecksums(source));
  expect(bootChecksums(target, true)).toEqual(bootChecksums(source));
}
