// Raw card access, run for real as root on loop devices standing in for card readers: the
// raw-disk helper (the bundle in dist/, as it ships) reads cards into sparse files and writes images with
// verification, refuses swapped cards, system disks, mounted cards and hostile requests by
// itself, stops cleanly when cancelled; the named-pipe transport of the macOS launcher and the
// diskutil test double run here too. Results are judged with sha256sum, stat, findmnt, losetup.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratch, ROOT } from '../helpers/fixtures.js';
import { helperBundleStale } from '../helpers/helper-bundle.js';
import { attachAsDevice, loopDevicesFor, makeFile, sha256 } from '../helpers/disk-tools.js';
import { startJob, type JobEvent } from '../../src-main/core/jobs/job.js';
import { AtlasError } from '../../src-main/core/errors.js';
import {
  HELPER_PATH,
  defaultLauncher,
  directLauncher,
  identifyRawCard,
  osascriptLauncher,
  readCardToFile,
  type HelperLauncher,
  type RawDiskOptions,
} from '../../src-main/core/card-io/card-reads.js';
import { info } from '../../src-main/core/cards/diskutil.js';
import { writeImage } from '../../src-main/core/write/write-pipeline.js';
import { closeHelperSessions } from '../../src-main/core/cards/helper-client.js';
import { ADMIN_PROMPT } from '../../src-main/core/cards/platform/darwin.js';
import { eject, unmountDisk } from '../../src-main/core/cards/target-guards.js';
import { linuxMedium } from '../../src-main/core/cards/medium.js';

const diskseq = (dev: string) => readFileSync(`/sys/class/block/${dev.slice(5)}/diskseq`, 'utf8').trim();

const MiB = 1024 * 1024;
const DOUBLE = join(ROOT, 'test', 'doubles', 'bin', 'diskutil');
const recorded = (name: string) =>
  readFileSync(join(ROOT, 'test', 'fixtures', 'recorded', name), 'utf8').trim();

function prefixSha(path: string, length: number): string {
  const fd = openSync(path, 'r');
  const h = createHash('sha256');
  const buf = Buffer.alloc(MiB);
  for (let pos = 0; pos < length;) {
    const n = readSync(fd, buf, 0, Math.min(MiB, length - pos), pos);
    if (n <= 0) break;
    h.update(buf.subarray(0, n));
    pos += n;
  }
  closeSync(fd);
  return h.digest('hex');
}

function readAt(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(length);
  readSync(fd, buf, 0, length, offset);
  closeSync(fd);
  return buf;
}

/** The command lines of the helper sessions this process started (its children). */
const helperSessionsOf = (pid: number): string[] =>
  spawnSync('ps', ['-o', 'args=', '--ppid', String(pid)], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((l) => l.includes('raw-disk-helper') && l.includes('--session'));

const isMounted = (path: string) => spawnSync('mountpoint', ['-q', path]).status === 0;

const attached: Array<{ dev: string; backing: string }> = [];
function attach(backing: string): string {
  const dev = attachAsDevice(backing);
  attached.push({ dev, backing });
  return dev;
}
/** Detaches our loop device, only while it still serves our backing file. */
function release(dev: string, backing: string): void {
  if (loopDevicesFor(backing).some((l) => l.startsWith(`${dev}:`))) execFileSync('losetup', ['-d', dev]);
}

async function run<T>(fn: Parameters<typeof startJob<T>>[1]) {
  const events: JobEvent[] = [];
  const job = startJob('raw-disk test', fn, { progressIntervalMs: 0 });
  job.on('event', (e: JobEvent) => events.push(e));
  const result = await job.promise.then(
    (value) => ({ value, error: undefined }),
    (error: unknown) => ({ value: undefined, error: error as AtlasError }),
  );
  return { ...result, events, job };
}

const steps = (events: JobEvent[]) => events.flatMap((e) => (e.type === 'step' ? [e.step.id] : []));

/** The environment of a direct root start: no requesting user. */
function rootEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  for (const k of ['SUDO_UID', 'SUDO_GID', 'SUDO_USER', 'PKEXEC_UID']) if (!(k in extra)) delete env[k];
  return env;
}

interface HelperRun {
  child: ChildProcess;
  events: Array<Record<string, unknown>>;
  send(obj: unknown): void;
  /** Resolves with the first event that matches. */
  next(pred: (e: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** The helper process, spoken to in its own protocol (the client's checks bypassed). */
function helper(env: NodeJS.ProcessEnv = rootEnv()): HelperRun {
  const child = spawn(process.execPath, [HELPER_PATH], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const events: Array<Record<string, unknown>> = [];
  const waiters: Array<[(e: Record<string, unknown>) => boolean, (e: Record<string, unknown>) => void]> = [];
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const e = JSON.parse(line) as Record<string, unknown>;
    events.push(e);
    for (const w of [...waiters]) {
      if (w[0](e)) {
        waiters.splice(waiters.indexOf(w), 1);
        w[1](e);
      }
    }
  });
  return {
    child,
    events,
    send: (obj) => child.stdin!.write(`${typeof obj === 'string' ? obj : JSON.stringify(obj)}\n`),
    next: (pred) =>
      new Promise((resolve) => {
        const hit = events.find(pred);
        if (hit) resolve(hit);
        else waiters.push([pred, resolve]);
      }),
    exit: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr }))),
  };
}

/** One request, stdin kept open until the helper answers and exits. */
async function ask(request: unknown, env?: NodeJS.ProcessEnv) {
  const h = helper(env);
  h.send(request);
  const exit = await h.exit;
  return { ...exit, events: h.events, last: h.events.at(-1) };
}

/** Helper processes that still hold `device` open. */
function helpersFor(device: string): number[] {
  const safe = <T>(fn: () => T, fallback: T): T => {
    try {
      return fn();
    } catch {
      return fallback;
    }
  };
  return readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid))
    .filter((pid) => safe(() => readFileSync(`/proc/${pid}/cmdline`, 'utf8'), '').includes(HELPER_PATH))
    .filter((pid) =>
      safe(() => readdirSync(`/proc/${pid}/fd`), [] as string[]).some(
        (fd) => safe(() => readlinkSync(`/proc/${pid}/fd/${fd}`), '') === device,
      ),
    )
    .map(Number);
}

describe('raw card access through the raw-disk helper', () => {
  let dir: string;
  let image: string;
  const IMAGE_BYTES = 96 * MiB;
  const CARD_BYTES = 128 * MiB;

  beforeAll(() => {
    // The helper runs as it ships, the bundle in dist/: it must be built from the sources its
    // source map names.
    expect(helperBundleStale(), 'run npm run build:helper').toBeUndefined();
    dir = scratch('raw-disk');
    // The requester test runs the helper on behalf of user nobody, who must reach its folder.
    execFileSync('chmod', ['0755', dir]);
    // An image with data and long runs of zeros, like a card image's free space.
    image = makeFile(join(dir, 'image.img'), IMAGE_BYTES, [
      [0, 4, 'random'],
      [40, 8, 'random'],
      [95, 1, 'random'],
    ]);
  });

  afterAll(() => {
    for (const { dev, backing } of attached) release(dev, backing);
  });

  it('is started directly when already root', async () => {
    expect(process.geteuid?.()).toBe(0);
    expect(await defaultLauncher('linux', '/dev/sdz')).toBe(directLauncher);
  });

  it('reads a card into a new sparse file with the same checksum', async () => {
    const backing = makeFile(join(dir, 'read-card.img'), CARD_BYTES, [
      [0, 2, 'random'],
      [64, 3, 'random'],
      [127, 1, 0x5a],
    ]);
    const dev = attach(backing);
    try {
      const card = await identifyRawCard(dev);
      // The kernel's sequence number of the medium, then the loop device's backing file.
      expect(card.medium).toBe(`seq:${diskseq(dev)} loop:${backing}:${statSync(backing).ino}`);
      const dest = join(dir, 'read-out.img');
      const r = await run((ctx) => readCardToFile(card, dest, ctx));
      expect(r.error).toBeUndefined();
      expect(r.value).toEqual({ bytes: CARD_BYTES, sha256: sha256(backing), verified: false });
      expect(sha256(dest)).toBe(sha256(backing));
      const st = statSync(dest);
      expect(st.size).toBe(CARD_BYTES);
      expect(st.blocks * 512).toBeLessThan(16 * MiB); // 6 MiB of data, the rest holes
      expect(steps(r.events)).toEqual(['read']);
      expect(r.events.some((e) => e.type === 'progress' && e.doneBytes === CARD_BYTES)).toBe(true);

      const part = join(dir, 'read-part.img');
      const p = await run((ctx) => readCardToFile(card, part, ctx, { length: 3 * MiB }));
      expect(p.value?.bytes).toBe(3 * MiB);
      expect(sha256(part)).toBe(prefixSha(backing, 3 * MiB));
    } finally {
      release(dev, backing);
    }
  });

  for (const [label, compress] of [
    ['a plain image', undefined],
    ['an .img.xz image', ['xz', '-T0', '-1', '-c']],
  ] as const) {
    it(
      `writes ${label} onto a card over old data, first block last, and verifies it`,
      { timeout: 300_000 },
      async () => {
        const backing = makeFile(join(dir, `write-card-${compress ? 'xz' : 'plain'}.img`), CARD_BYTES, [
          [0, 128, 0xa5],
        ]);
        const dev = attach(backing);
        let source = image;
        if (compress) {
          source = `${image}.xz`;
          if (!existsSync(source))
            execFileSync('bash', ['-c', `${compress.join(' ')} -- "$1" > "$2"`, 'c', image, source]);
        }
        try {
          const card = await identifyRawCard(dev);
          const r = await run((ctx) => writeImage(source, card, ctx, { verify: true, map: false }));
          expect(r.error).toBeUndefined();
          expect(r.value).toMatchObject({ bytes: IMAGE_BYTES, sha256: sha256(image), verified: true });
          expect(r.value?.mappedBytes).toBeUndefined();
          expect(prefixSha(dev, IMAGE_BYTES)).toBe(sha256(image));
          // Past the image, the card keeps its own bytes.
          expect(readAt(dev, IMAGE_BYTES, MiB)).toEqual(Buffer.alloc(MiB, 0xa5));
          expect(steps(r.events)).toEqual(['write', 'verify']);
        } finally {
          release(dev, backing);
        }
      },
    );
  }

  it('refuses a card swapped between pick and write, and leaves the new card untouched', async () => {
    const picked = makeFile(join(dir, 'picked.img'), CARD_BYTES, [[0, 1, 0x11]]);
    const other = makeFile(join(dir, 'other.img'), CARD_BYTES, [[0, 1, 0x22]]);
    const first = attach(picked);
    const card = await identifyRawCard(first);
    release(first, picked);
    // Another card of the same size in the same reader (the freed loop device is usually reused).
    const second = attach(other);
    try {
      const before = sha256(other);
      const swapped = { ...card, path: second };
      const r = await run((ctx) => writeImage(image, swapped, ctx, { verify: true, map: false }));
      expect(r.error?.code).toBe('card-changed');
      expect(r.error?.message).toMatch(/medium was/);
      expect(r.error?.hint).toMatch(/pick the card again/);
      expect(sha256(other)).toBe(before);
      // The picked card is gone altogether: also card-changed.
      if (second !== first) {
        const gone = await run((ctx) => writeImage(image, card, ctx, { verify: true, map: false }));
        expect(gone.error?.code).toBe('card-changed');
      }
    } finally {
      release(second, other);
    }
  });

  it('the helper itself refuses the system disk, even when asked directly', async () => {
    const root = execFileSync('findmnt', ['-n', '-o', 'SOURCE', '/'], { encoding: 'utf8' }).trim();
    const disk =
      execFileSync('lsblk', ['-n', '-d', '-o', 'PKNAME', root], { encoding: 'utf8' }).trim() || root.slice(5);
    const bytes = Number(readFileSync(`/sys/class/block/${disk}/size`, 'utf8')) * 512;
    const direct = await ask({
      op: 'write',
      device: `/dev/${disk}`,
      expect: { bytes },
      source: image,
      verify: true,
    });
    expect(direct.code).toBe(2);
    expect(direct.last).toMatchObject({ event: 'error', code: 'unsafe-target' });
    expect(direct.events).toHaveLength(1);
    // Past the device-name rule, the target check refuses it as the disk holding /.
    const { checkTarget } = (await import(
      HELPER_PATH
    )) as typeof import('../../src-main/privileged/raw-disk-helper.js');
    const err = await checkTarget(`/dev/${disk}`, { bytes }, 'read', 'linux').then(
      () => undefined,
      (e: unknown) => e as AtlasError,
    );
    expect(err?.code).toBe('unsafe-target');
    expect(err?.message).toMatch(/holds the running system/);
  });

  it('refuses a card with a mounted file system, for reading and writing', async () => {
    const backing = join(dir, 'mounted-card.img');
    makeFile(backing, 64 * MiB, []);
    execFileSync('mkfs.ext4', ['-q', '-F', '-L', 'armbi_root', backing]);
    const dev = attach(backing);
    const mnt = join(dir, 'mnt-mounted');
    mkdirSync(mnt, { recursive: true });
    // Read-only, so the mount itself leaves the card's bytes alone.
    execFileSync('mount', ['-o', 'ro,noload', dev, mnt]);
    try {
      const card = await identifyRawCard(dev);
      const before = sha256(backing);
      const opts: RawDiskOptions = { unmount: false };
      const w = await run((ctx) => writeImage(image, card, ctx, { ...opts, verify: true, map: false }));
      expect(w.error?.code).toBe('unsafe-target');
      expect(w.error?.message).toContain(mnt);
      const r = await run((ctx) => readCardToFile(card, join(dir, 'mounted-out.img'), ctx, opts));
      expect(r.error?.code).toBe('unsafe-target');
      expect(existsSync(join(dir, 'mounted-out.img'))).toBe(false);
      execFileSync('umount', [mnt]);
      expect(sha256(backing)).toBe(before);
    } finally {
      execFileSync('bash', ['-c', 'mountpoint -q "$1" && umount "$1" || true', 'u', mnt]);
      release(dev, backing);
    }
  });

  it('refuses hostile and malformed requests with a typed error line and exit code 2', async () => {
    const backing = makeFile(join(dir, 'hostile-card.img'), CARD_BYTES, [[0, 1, 0x33]]);
    const dev = attach(backing);
    try {
      const before = sha256(backing);
      const expectOk = { bytes: CARD_BYTES, medium: (await linuxMedium(dev))! };
      // A used-block read that also makes partition 2's partclone image on a pipe.
      const imageRead = (dest: string, partclone: object) => ({
        op: 'read',
        device: dev,
        expect: expectOk,
        dest: join(dir, dest),
        used: true,
        partclone,
      });
      const cases: Array<[string, unknown, string, RegExp]> = [
        [
          'relative dest',
          { op: 'read', device: dev, expect: expectOk, dest: 'out.img' },
          'bad-input',
          /absolute/,
        ],
        [
          '.. in dest',
          { op: 'read', device: dev, expect: expectOk, dest: `${dir}/../x.img` },
          'bad-input',
          /"\.\."/,
        ],
        [
          '.. in source',
          { op: 'write', device: dev, expect: expectOk, source: `${dir}/../../etc/passwd`, verify: false },
          'bad-input',
          /"\.\."/,
        ],
        [
          '/etc/passwd as device',
          { op: 'write', device: '/etc/passwd', expect: expectOk, source: image, verify: false },
          'unsafe-target',
          /not a card device/,
        ],
        [
          'a partition',
          { op: 'read', device: '/dev/sda1', expect: expectOk, dest: `${dir}/p.img` },
          'unsafe-target',
          /not a card device/,
        ],
        [
          'an NVMe disk',
          { op: 'read', device: '/dev/nvme0n1', expect: expectOk, dest: `${dir}/n.img` },
          'unsafe-target',
          /not a card device/,
        ],
        ['unknown op', { op: 'format', device: dev }, 'bad-input', /unknown op "format"/],
        [
          'extra field',
          { op: 'write', device: dev, expect: expectOk, source: image, verify: true, force: true },
          'bad-input',
          /unknown field "force"/,
        ],
        [
          'extra expect field',
          { op: 'read', device: dev, expect: { ...expectOk, node: 1 }, dest: `${dir}/e.img` },
          'bad-input',
          /unknown field "node" in expect/,
        ],
        [
          'verify as a string',
          { op: 'write', device: dev, expect: expectOk, source: image, verify: 'yes' },
          'bad-input',
          /verify: expected true or false/,
        ],
        [
          'zero length',
          { op: 'read', device: dev, expect: expectOk, dest: `${dir}/z.img`, length: 0 },
          'bad-input',
          /length: out of range/,
        ],
        [
          'a partclone version that is a command',
          imageRead('pv.img', { partition: 2, version: '0.3.23;reboot', to: join(dir, 'fifo') }),
          'bad-input',
          /partclone\.version: is not a partclone version/,
        ],
        [
          'a partclone image of partition 0',
          imageRead('p0.img', { partition: 0, version: '0.3.23', to: join(dir, 'fifo') }),
          'bad-input',
          /partclone\.partition: out of range/,
        ],
        [
          'a relative partclone pipe',
          imageRead('pr.img', { partition: 2, version: '0.3.23', to: 'fifo' }),
          'bad-input',
          /absolute/,
        ],
        ['not JSON', `{"op":"read", device: ${dev}}`, 'bad-input', /not JSON/],
        ['an array', [1, 2], 'bad-input', /unknown op/],
      ];
      for (const [name, request, code, message] of cases) {
        const r = await ask(request);
        expect(r.code, name).toBe(2);
        expect(r.events, name).toHaveLength(1);
        expect(r.last, name).toMatchObject({ event: 'error', code });
        expect(String(r.last?.message), name).toMatch(message);
        expect(r.last?.hint, name).toBeTruthy();
      }
      // Valid requests that must still be refused: an existing dest, a source that is not a file.
      const existing = join(dir, 'exists.img');
      writeFileSync(existing, 'keep me');
      const ex = await ask({ op: 'read', device: dev, expect: expectOk, dest: existing });
      expect(ex.last).toMatchObject({ event: 'error', code: 'exists' });
      expect(readFileSync(existing, 'utf8')).toBe('keep me');
      const notFile = await ask({ op: 'write', device: dev, expect: expectOk, source: dir, verify: false });
      expect(notFile.last).toMatchObject({ event: 'error', code: 'bad-input' });
      // The image goes to a named pipe only: never into a file the helper would write as root.
      const victim = join(dir, 'victim.txt');
      writeFileSync(victim, 'keep me too');
      const toFile = await ask(imageRead('pf.img', { partition: 2, version: '0.3.23', to: victim }));
      expect(toFile.last).toMatchObject({ event: 'error', code: 'bad-input' });
      expect(String(toFile.last?.message)).toMatch(/is not a named pipe/);
      expect(readFileSync(victim, 'utf8')).toBe('keep me too');
      expect(existsSync(join(dir, 'pf.img'))).toBe(false);
      // A pipe nobody reads is refused at once, not waited on.
      const unread = join(dir, 'unread.fifo');
      execFileSync('mkfifo', ['-m', '600', unread]);
      const noReader = await ask(imageRead('pn.img', { partition: 2, version: '0.3.23', to: unread }));
      expect(noReader.last).toMatchObject({ event: 'error', code: 'bad-input' });
      expect(String(noReader.last?.message)).toMatch(/nothing reads the named pipe/);
      expect(existsSync(join(dir, 'pn.img'))).toBe(false);
      expect(sha256(backing)).toBe(before);
    } finally {
      release(dev, backing);
    }
  });

  it('opens files with the rights of the user who asked (SUDO_UID), never its own', async () => {
    const backing = makeFile(join(dir, 'requester-card.img'), CARD_BYTES, [[0, 1, 0x44]]);
    const dev = attach(backing);
    const expectOk = { bytes: CARD_BYTES, medium: (await linuxMedium(dev))! };
    const nobody = { SUDO_UID: '65534', SUDO_GID: '65534' };
    try {
      const before = sha256(backing);
      const shadow = await ask(
        { op: 'write', device: dev, expect: expectOk, source: '/etc/shadow', verify: false },
        rootEnv(nobody),
      );
      expect(shadow.last).toMatchObject({ event: 'error', code: 'permission' });
      expect(String(shadow.last?.message)).toMatch(/as user 65534/);
      expect(sha256(backing)).toBe(before);
      const rootOnly = join(dir, 'root-only');
      mkdirSync(rootOnly, { mode: 0o700 });
      const denied = await ask(
        { op: 'read', device: dev, expect: expectOk, dest: join(rootOnly, 'x.img') },
        rootEnv(nobody),
      );
      expect(denied.last).toMatchObject({ event: 'error', code: 'permission' });
      expect(readdirSync(rootOnly)).toEqual([]);
      const shared = join(dir, 'shared');
      mkdirSync(shared);
      execFileSync('chmod', ['1777', shared]);
      const ok = await ask(
        { op: 'read', device: dev, expect: expectOk, dest: join(shared, 'y.img'), length: 2 * MiB },
        rootEnv(nobody),
      );
      expect(ok.last).toMatchObject({ event: 'done', bytes: 2 * MiB });
      expect(statSync(join(shared, 'y.img')).uid).toBe(65534);
    } finally {
      release(dev, backing);
    }
  });

  it('cancelled mid-write through the protocol, the helper stops by itself and says so', async () => {
    const big = makeFile(join(dir, 'big.img'), 1024 * MiB, [
      [0, 1, 'random'],
      [1023, 1, 'random'],
    ]);
    const backing = makeFile(join(dir, 'cancel-card.img'), 1024 * MiB, [[0, 1, 0xa5]]);
    const dev = attach(backing);
    try {
      const h = helper();
      h.send({
        op: 'write',
        device: dev,
        expect: { bytes: 1024 * MiB, medium: (await linuxMedium(dev))! },
        source: big,
        verify: true,
      });
      await h.next((e) => e.event === 'progress');
      const t0 = Date.now();
      h.send({ op: 'cancel' });
      const exit = await h.exit;
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(exit).toMatchObject({ code: 3, signal: null });
      expect(h.events.at(-1)).toMatchObject({ event: 'error', code: 'cancelled' });
      expect(h.events.some((e) => e.event === 'done')).toBe(false);
      // The old table is made invalid first and the new one is written last: an interrupted card
      // has no partition table at all.
      expect(readAt(backing, 0, MiB)).toEqual(Buffer.alloc(MiB, 0));
    } finally {
      release(dev, backing);
    }
  });

  it('cancelled mid-write through the client, the job ends cancelled without killing the helper', async () => {
    const big = join(dir, 'big.img');
    const backing = makeFile(join(dir, 'cancel-card-2.img'), 1024 * MiB, [[0, 1, 0xa5]]);
    const dev = attach(backing);
    try {
      const card = await identifyRawCard(dev);
      let t0 = 0;
      const events: JobEvent[] = [];
      const job = startJob(
        'cancel',
        (ctx) => writeImage(big, card, ctx, { verify: true, map: false, killGraceMs: 60_000 }),
        {
          progressIntervalMs: 0,
        },
      );
      job.on('event', (e: JobEvent) => {
        events.push(e);
        if (e.type === 'progress' && e.doneBytes > 0 && t0 === 0) {
          t0 = Date.now();
          job.cancel();
        }
      });
      const err = await job.promise.then(
        () => undefined,
        (e: unknown) => e as AtlasError,
      );
      expect(err?.code).toBe('cancelled');
      // Far inside the 60 s grace: the helper exited on its own.
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(helpersFor(dev)).toEqual([]);
      expect(readAt(backing, 0, MiB)).toEqual(Buffer.alloc(MiB, 0));
      expect(job.state).toBe('cancelled');
    } finally {
      release(dev, backing);
    }
  });

  it('works over named pipes, the way the macOS launcher connects it', async () => {
    const backing = makeFile(join(dir, 'fifo-card.img'), CARD_BYTES, [[0, 2, 'random']]);
    const dev = attach(backing);
    // Stands in for `osascript … do shell script`: no stdio, only the command line.
    const viaShell: HelperLauncher = {
      name: 'sh',
      transport: 'fifo',
      wrap: (argv) => ({
        command: 'sh',
        args: ['-c', 'exec "$@" </dev/null >/dev/null', 'sh', ...argv],
        env: rootEnv() as Record<string, string>,
      }),
    };
    try {
      const card = await identifyRawCard(dev);
      const dest = join(dir, 'fifo-out.img');
      const r = await run((ctx) => readCardToFile(card, dest, ctx, { launcher: viaShell }));
      expect(r.error).toBeUndefined();
      expect(sha256(dest)).toBe(sha256(backing));
      // Authorization refused: the launcher ends without starting the helper; no hang, a clear error.
      const refused: HelperLauncher = {
        ...viaShell,
        wrap: () => ({ command: 'sh', args: ['-c', 'echo "User canceled." >&2; exit 1'], env: {} }),
      };
      const t0 = Date.now();
      const no = await run((ctx) =>
        readCardToFile(card, join(dir, 'fifo-no.img'), ctx, { launcher: refused }),
      );
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(no.error?.code).toBe('permission');
      expect(no.error?.message).toMatch(/User canceled/);
      expect(existsSync(join(dir, 'fifo-no.img'))).toBe(false);
    } finally {
      release(dev, backing);
    }
  });

  it('the macOS administrator prompt is shown once: three cards flashed, then one cloned; Cancel (-128) says so plainly', async () => {
    const backings = [0, 1, 2].map((i) =>
      makeFile(join(dir, `osa-card-${i}.img`), CARD_BYTES, [[0, 2, 'random']]),
    );
    const devs = backings.map((b) => attach(b));
    const image = makeFile(join(dir, 'osa-image.img'), 4 * MiB, [[0, 4, 'random']]);
    const prompts = join(dir, 'osa-prompts.txt');
    const osascript = join(ROOT, 'test', 'doubles', 'bin', 'osascript');
    const launcher = osascriptLauncher(ADMIN_PROMPT, 0, 0, osascript);
    process.env.ATLAS_OSASCRIPT_DOUBLE_PROMPTS = prompts;
    try {
      const cards = await Promise.all(devs.map((d) => identifyRawCard(d)));
      const flashed = await Promise.all(
        cards.map((card) =>
          run((ctx) => writeImage(image, card, ctx, { launcher, verify: true, map: false })),
        ),
      );
      for (const [i, f] of flashed.entries()) {
        expect(f.error).toBeUndefined();
        expect(f.value?.verified).toBe(true);
        expect(prefixSha(backings[i]!, 4 * MiB)).toBe(sha256(image));
      }
      // The helper still runs, idle, for the next request; its pipes have no names any more.
      const session = helperSessionsOf(process.pid);
      expect(session).toHaveLength(1);
      const pipes = session[0]!.split(' ').filter((_, i, a) => a[i - 1] === '--in' || a[i - 1] === '--out');
      expect(pipes).toHaveLength(2);
      for (const p of pipes) expect(existsSync(p)).toBe(false);
      const cloned = await run((ctx) =>
        readCardToFile(cards[0]!, join(dir, 'osa-out.img'), ctx, { launcher }),
      );
      expect(cloned.error).toBeUndefined();
      expect(sha256(join(dir, 'osa-out.img'))).toBe(sha256(backings[0]!));
      expect(readFileSync(prompts, 'utf8').trim().split('\n')).toEqual([ADMIN_PROMPT]);

      // After the session ends (the app quits), the next request asks again; Cancel says so.
      await closeHelperSessions();
      expect(helperSessionsOf(process.pid)).toEqual([]);
      process.env.ATLAS_OSASCRIPT_DOUBLE = 'cancel';
      const no = await run((ctx) => readCardToFile(cards[1]!, join(dir, 'osa-no.img'), ctx, { launcher }));
      expect(no.error).toMatchObject({
        code: 'permission',
        message: `the administrator prompt was cancelled: ${devs[1]} was not read or written`,
      });
      expect(no.error?.hint).toMatch(/administrator's password/);
      expect(existsSync(join(dir, 'osa-no.img'))).toBe(false);
      expect(readFileSync(prompts, 'utf8').trim().split('\n')).toEqual([ADMIN_PROMPT, ADMIN_PROMPT]);
    } finally {
      delete process.env.ATLAS_OSASCRIPT_DOUBLE;
      delete process.env.ATLAS_OSASCRIPT_DOUBLE_PROMPTS;
      await closeHelperSessions();
      devs.forEach((d, i) => release(d, backings[i]!));
    }
  });

  it('in a shared session, cancelling one request leaves the others running', async () => {
    // The cancelled read's card is 2 GiB, so the cancel reaches the helper while it still reads.
    const backings = [CARD_BYTES, 2048 * MiB].map((bytes, i) =>
      makeFile(join(dir, `share-card-${i}.img`), bytes, [[0, 2, 'random']]),
    );
    const devs = backings.map((b) => attach(b));
    const shared: HelperLauncher = { ...directLauncher, name: 'shared-root', shared: true };
    try {
      const cards = await Promise.all(devs.map((d) => identifyRawCard(d)));
      const controller = new AbortController();
      const first = run((ctx) =>
        readCardToFile(cards[0]!, join(dir, 'share-0.img'), ctx, { launcher: shared }),
      );
      const second = startJob(
        'cancelled read',
        (ctx) => readCardToFile(cards[1]!, join(dir, 'share-1.img'), ctx, { launcher: shared }),
        { progressIntervalMs: 0 },
      );
      second.on('event', (e: JobEvent) => {
        if (e.type === 'progress') controller.abort();
      });
      controller.signal.addEventListener('abort', () => second.cancel());
      const [a, b] = await Promise.all([
        first,
        second.promise.then(
          () => 'done',
          (e: AtlasError) => e.code,
        ),
      ]);
      expect(a.error).toBeUndefined();
      expect(sha256(join(dir, 'share-0.img'))).toBe(sha256(backings[0]!));
      expect(b).toBe('cancelled');
      expect(existsSync(join(dir, 'share-1.img'))).toBe(false);
      expect(helperSessionsOf(process.pid)).toHaveLength(1);
    } finally {
      await closeHelperSessions();
      devs.forEach((d, i) => release(d, backings[i]!));
    }
  });

  it('the macOS launcher runs the helper through the authorization dialog with every argument quoted by AppleScript', () => {
    const { command, args } = osascriptLauncher('Atlas Imager wants to write /dev/disk4.', 501, 20).wrap([
      '/Applications/Atlas Imager.app/Contents/MacOS/Atlas Imager',
      '/x/raw-disk-helper.mjs',
      '--in',
      '/tmp/a b/in',
    ]);
    expect(command).toBe('/usr/bin/osascript');
    const script = args.filter((_, i) => args[i - 1] === '-e');
    expect(script).toContain('set cmd to cmd & " " & quoted form of (item i of argv)');
    expect(script).toContain(
      'do shell script cmd with prompt (item 1 of argv) with administrator privileges',
    );
    const rest = args.slice(script.length * 2);
    expect(rest).toEqual([
      'Atlas Imager wants to write /dev/disk4.',
      '/usr/bin/env',
      'SUDO_UID=501',
      'SUDO_GID=20',
      '/Applications/Atlas Imager.app/Contents/MacOS/Atlas Imager',
      '/x/raw-disk-helper.mjs',
      '--in',
      '/tmp/a b/in',
    ]);
  });
});

describe('diskutil test double on a loop-backed /dev/disk4', () => {
  let dir: string;
  let backing: string;
  let dev: string;
  let mnt: string;
  const opts = { platform: 'darwin' as const, diskutil: DOUBLE };

  beforeAll(() => {
    dir = scratch('diskutil-double');
    backing = makeFile(join(dir, 'mac-card.img'), 64 * MiB, []);
    execFileSync('mkfs.ext4', ['-q', '-F', '-L', 'armbi_root', backing]);
    dev = attach(backing);
    mnt = join(dir, 'Volumes', 'RPICFG');
    mkdirSync(mnt, { recursive: true });
    execFileSync('mount', [dev, mnt]);
    const map = join(dir, 'map.json');
    writeFileSync(map, JSON.stringify({ disk4: dev }));
    process.env.ATLAS_DISKUTIL_DOUBLE_MAP = map;
  });

  afterAll(() => {
    delete process.env.ATLAS_DISKUTIL_DOUBLE_MAP;
    execFileSync('bash', ['-c', 'mountpoint -q "$1" && umount "$1" || true', 'u', mnt]);
    release(dev, backing);
  });

  it('info -plist describes the card, as the raw-disk client identifies it', async () => {
    const d = await info('/dev/rdisk4', opts);
    expect(d).toMatchObject({
      identifier: 'disk4',
      node: '/dev/disk4',
      wholeDisk: true,
      parentWholeDisk: 'disk4',
      bytes: 64 * MiB,
      mediaName: 'Atlas Test Reader Media',
      removable: true,
      internal: false,
      writable: true,
      virtual: false,
      busProtocol: 'USB',
    });
    const card = await identifyRawCard('/dev/disk4', { platform: 'darwin', diskutil: opts });
    expect(card).toMatchObject({
      path: '/dev/disk4',
      kind: 'device',
      bytes: 64 * MiB,
      model: 'Atlas Test Reader Media',
      readOnly: false,
    });
  });

  it("a plain unmountDisk fails while a volume is busy, with diskutil's words; the app's forced one succeeds", async () => {
    const busy = spawn('sleep', ['60'], { cwd: mnt, stdio: 'ignore' });
    try {
      const plain = spawnSync(DOUBLE, ['unmountDisk', '/dev/disk4'], { encoding: 'utf8' });
      expect(plain.status).toBe(1);
      expect(plain.stderr.trim()).toBe(
        recorded('diskutil-unmountDisk-failed.txt').trim().replace('disk1', 'disk4'),
      );
      expect(isMounted(mnt)).toBe(true);
      // diskutil unmountDisk force, as Raspberry Pi Imager unmounts: the busy volume goes.
      const ok = await unmountDisk('/dev/disk4', opts);
      expect(ok.message).toBe(recorded('diskutil-unmountDisk.txt').replace('disk2', 'disk4'));
      expect(isMounted(mnt)).toBe(false);
    } finally {
      busy.kill();
      await new Promise((r) => busy.once('close', r));
    }
    expect(loopDevicesFor(backing)).toHaveLength(1);
  });

  it('eject unmounts and takes the card away', async () => {
    execFileSync('mount', [dev, mnt]);
    const r = await eject('/dev/disk4', opts);
    expect(r.message).toBe(recorded('diskutil-eject.txt').replace('/dev/disk2', '/dev/disk4'));
    expect(loopDevicesFor(backing)).toEqual([]);
    const gone = await info('disk4', opts).then(
      () => undefined,
      (e: unknown) => e as AtlasError,
    );
    expect(gone?.code).toBe('not-found');
  });

  it('on Linux the same calls unmount the card and flush it', async () => {
    const linuxDev = attach(backing);
    execFileSync('mount', [linuxDev, mnt]);
    try {
      const u = await unmountDisk(linuxDev, { platform: 'linux' });
      expect(u.message).toBe(`unmounted ${mnt}`);
      expect(isMounted(mnt)).toBe(false);
      const e = await eject(linuxDev, { platform: 'linux' });
      expect(e.message).toBe(`flushed ${linuxDev}; the card can be removed`);
    } finally {
      execFileSync('bash', ['-c', 'mountpoint -q "$1" && umount "$1" || true', 'u', mnt]);
      release(linuxDev, backing);
    }
  });
});
