// The MacBook path through a real builder VM: test/vm/bin/limactl boots a Debian guest in QEMU
// (see test/vm/README.md), shares the work folder over 9p at another guest path, runs the
// template's own provision script in it, and runs every `limactl shell` over ssh. The app's Lima
// code (src-main/core/lima) runs unchanged. The cards are loop devices the guest cannot see: the
// raw-disk helper serves them over NBD through `limactl shell` (the guest's kernel has the nbd
// module), so clone, verify and restore run on /dev/nbdN in the guest; shrink reads a copy through
// the helper. Results are checked with the same independent tools as the other tests, on this host.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLONE_FILES, copyFixture, fixture, scratch } from '../helpers/fixtures.js';
import {
  attachAsDevice,
  chkimg,
  debugfsCat,
  debugfsStat,
  detach,
  dumpe2fs,
  e2fsckClean,
  rootChecksums,
  expectGrownCopy,
  usedCard,
} from '../helpers/disk-tools.js';
import { startJob, type JobContext, type JobEvent } from '../../src-main/core/jobs/job.js';
import { clone } from '../../src-main/core/phases/clone.js';
import { restore } from '../../src-main/core/phases/restore.js';
import { insert } from '../../src-main/core/phases/insert.js';
import { verify } from '../../src-main/core/phases/verify.js';
import { shrink } from '../../src-main/core/phases/shrink.js';
import { HELPER_PATH } from '../../src-main/core/cards/helper-client.js';
import type { Limactl } from '../../src-main/core/lima/limactl.js';
import type { LimaBuilder } from '../../src-main/core/lima/lima-builder.js';
import { vmStop } from '../../src-main/core/lima/vm.js';
import { runDoctor } from '../../src-main/core/lima/doctor.js';
import {
  canRunRealVm,
  FRONT,
  GUEST_WORK,
  liveProcessesMentioning,
  qemuProcesses,
  startRealVm,
  VM,
  type RealVm,
} from '../vm/real-vm.js';

const SECRET = 'Real-VM-Secr3t-pw';
const MiB = 1024 * 1024;

const canRun = canRunRealVm();

const run = <T>(fn: (ctx: JobContext) => Promise<T>): Promise<T> => startJob('test', fn).promise;

/** Runs a job and keeps its log. */
async function runLogged<T>(
  fn: (ctx: JobContext) => Promise<T>,
): Promise<{ result: T; log: string[]; plans: string[][]; steps: string[] }> {
  const job = startJob('test', fn);
  const plans: string[][] = [];
  const steps: string[] = [];
  job.on('event', (e: JobEvent) => {
    if (e.type === 'plan') plans.push(e.steps.map((p) => p.id));
    if (e.type === 'step') steps.push(e.step.id);
  });
  return { result: await job.promise, log: job.log, plans, steps };
}

/** The line of the job log saying how the card reached the VM. */
const cardAccess = (log: string[]): string[] => log.filter((l) => l.includes('card access: '));

function usedBytes(card: string): number {
  const fs = dumpe2fs(card);
  return (Number(fs['Block count']) - Number(fs['Free blocks'])) * Number(fs['Block size']);
}

function sectorsRead(dev: string): number {
  return (
    Number(
      readFileSync(`/sys/block/${dev.slice(5)}/stat`, 'utf8')
        .trim()
        .split(/\s+/)[2],
    ) * 512
  );
}

/** The local addresses a process listens on (TCP and UDP), by ss. */
function listeningAddresses(pid: number): string[] {
  return spawnSync('ss', ['-Hlntup'], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((l) => l.includes(`pid=${pid},`))
    .map((l) => l.trim().split(/\s+/)[4]!);
}

describe.skipIf(!canRun)('the MacBook path through a real QEMU builder VM', () => {
  let vm: RealVm;
  let dir: string;
  let shared: string;
  let limaHome: string;
  let lima: Limactl;
  let env: { builder: LimaBuilder; library: string };
  let cardFile: string;
  let card: string;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    dir = scratch('real-vm');
    vm = await startRealVm(dir);
    ({ lima, shared, limaHome } = vm);
    timings.setup = vm.setupMs;
    env = { builder: vm.builder, library: shared };
    cardFile = join(dir, 'reader-card.img');
    usedCard(cardFile, 1200, 0xaa, fixture('provisioned', { rootMiB: 600, fillMiB: 24 }));
    card = attachAsDevice(cardFile);
  });

  afterAll(async () => {
    if (card) detach(card);
    await vm?.release();
    console.log(`real VM timings (ms): ${JSON.stringify(timings)}`);
  });

  it('is a real guest: its own kernel, the work folder over 9p at the guest path, a sudo user, only 127.0.0.1 ports', async () => {
    const uname = await env.builder.guestCommand(['uname', '-n'], { workdir: '/' });
    expect(uname.stdout.trim()).toBe('lima-atlas-build');
    // A file system of its own (9p's statfs reports the host's type, so that is not checked); the
    // doctor's check below proves it is the host's work folder, both ways.
    const devs = await env.builder.guestCommand(['stat', '-c', '%d', '/', GUEST_WORK], { workdir: '/' });
    const [rootDev, workDev] = devs.stdout.trim().split('\n');
    expect(workDev).toMatch(/^\d+$/);
    expect(workDev).not.toBe(rootDev);
    const kernel = await env.builder.guestCommand(['uname', '-r'], { workdir: '/' });
    expect(kernel.stdout.trim()).toMatch(/-amd64$/);
    // The home is shared read-only at its own path, so the library inside it shows there too, but
    // nothing is ever written through it: the work folder is written at its guest path.
    const seen = await env.builder.guestCommand(
      ['sh', '-c', 'touch "$1/.atlas-probe" 2>/dev/null; echo $?', 'sh', shared],
      { workdir: '/' },
    );
    expect(seen.stdout.trim()).not.toBe('0');
    const who = await env.builder.guestCommand(['id', '-un'], { workdir: '/' });
    expect(who.stdout.trim()).toBe('lima');
    const root = await env.builder.guestCommand(['sudo', '-n', 'id', '-u'], { workdir: '/' });
    expect(root.stdout.trim()).toBe('0');
    // The template's provision script ran: the disk tools are there, /var/lib/atlas-build is root's.
    const tools = await env.builder.guestCommand(['sudo', 'stat', '-c', '%a %U', '/var/lib/atlas-build'], {
      workdir: '/',
    });
    expect(tools.stdout.trim()).toBe('700 root');
    // Through sudo, as the builder scripts run (the default user's PATH has no sbin folders).
    const pc = await env.builder.guestCommand(
      ['sudo', 'sh', '-c', 'for t in partclone.ext4 sfdisk mcopy; do command -v $t; done'],
      {
        workdir: '/',
      },
    );
    expect(pc.stdout.trim().split('\n')).toHaveLength(3);
    // The guest sees neither the card nor the host's folders outside the shares.
    const ls = await env.builder.guestCommand(
      ['sh', '-c', 'ls -- "$1" "$2" >/dev/null 2>&1; echo $?', 'sh', card, cardFile],
      { workdir: '/' },
    );
    expect(ls.stdout.trim()).toBe('2');
    // QEMU listens only for the forwarded ssh port, on the loopback address.
    const qemu = Number(readFileSync(join(limaHome, VM, 'qemu.pid'), 'utf8'));
    const listed = spawnSync(join(FRONT, 'limactl'), ['list', '--json', VM], { encoding: 'utf8' });
    const port = JSON.parse(listed.stdout).sshLocalPort;
    expect(listeningAddresses(qemu)).toEqual([`127.0.0.1:${port}`]);
  });

  it('the doctor passes every check against the real VM', async () => {
    const t0 = Date.now();
    const result = await run((ctx) => runDoctor({ library: shared, limactl: lima, minFreeBytes: 1e6 }, ctx));
    timings.doctor = Date.now() - t0;
    const byId = Object.fromEntries(result.checks.map((c) => [c.id, c]));
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(byId.vm?.detail).toMatch(/^Running \(the atlas-build Lima VM \(qemu, x86_64\)/);
    expect(byId['vm-tools']?.detail).toMatch(/partclone \d+\.\d+/);
    expect(byId['shared-folder']?.detail).toBe(
      `${shared} is ${GUEST_WORK} in the VM, readable and writable from both sides`,
    );
    expect(readdirSync(shared)).not.toContain('.atlas-doctor');
  });

  it('clones the card attached in the guest as a block device: partclone reads only used blocks over NBD, and the set is the seed format', async () => {
    const used = usedBytes(cardFile);
    const before = sectorsRead(card);
    const t0 = Date.now();
    const {
      result: r,
      log,
      plans,
      steps,
    } = await runLogged((ctx) => clone(env, { card, name: 'v8-1-0-VM' }, ctx));
    timings.clone = Date.now() - t0;
    // The plan at the end is the one followed: the VM clones the root in a step of its own.
    expect(steps).toContain('clone-root');
    expect(plans.at(-1)!.filter((id) => steps.includes(id))).toEqual(steps);
    expect(plans.at(-1)).toContain('clone-root');
    const after = sectorsRead(card);
    // The block-device path was chosen, and said so; nothing card-sized was written on the host.
    const access = cardAccess(log);
    expect(access[0]).toMatch(
      /^card access: \d+ bytes attached in the VM as \/dev\/nbd\d+ \(NBD over limactl shell\)$/,
    );
    const nbdRead = Number(/(\d+) bytes read from the card through \/dev\/nbd/.exec(access.join('\n'))?.[1]);
    timings.cloneNbdReadBytes = nbdRead;
    timings.usedBytes = used;
    expect(nbdRead).toBeGreaterThan(used / 2);
    expect(nbdRead).toBeLessThanOrEqual(1.1 * used + 64 * MiB);
    expect(r.files.map((f) => f.name)).toEqual(CLONE_FILES);
    expect(r.sourceState).toBe('provisioned');
    expect(after - before).toBeLessThanOrEqual(1.1 * used + 64 * MiB);
    expect(chkimg(join(r.dir, 'sdc1-boot.partclone.gz'))).toBe(0);
    expect(chkimg(join(r.dir, 'sdc2-root.partclone.gz'))).toBe(0);
    // sfdisk named the card as the guest saw it: its NBD device.
    expect(readFileSync(join(r.dir, 'partition-table.dump'), 'utf8')).toMatch(/^\/dev\/nbd\d+p1 : start=/m);
    const m = JSON.parse(readFileSync(join(r.dir, 'manifest.json'), 'utf8'));
    expect(m.createdBy.builder).toMatch(/^the atlas-build Lima VM \(qemu, x86_64\)/);
    expect(m.notes[0]).toBe(
      `read from the card: ${nbdRead} of ${1200 * MiB} bytes (attached in the builder as a block device)`,
    );
    // The device is gone from the guest again: no client, no bridge.
    const left = await env.builder.guestCommand(
      ['sh', '-c', 'cat /sys/block/nbd*/pid 2>/dev/null; pgrep -a socat || true'],
      { workdir: '/' },
    );
    expect(left.stdout.trim()).toBe('');
  });

  it('clones the card staged instead (ATLAS_CARD_ACCESS=staged): the root image made on the host crosses ssh to the guest, and is the one partclone made over NBD', async () => {
    const saved = process.env.ATLAS_CARD_ACCESS;
    process.env.ATLAS_CARD_ACCESS = 'staged';
    let r;
    try {
      r = (await runLogged((ctx) => clone(env, { card, name: 'v8-1-0-VMS' }, ctx))).result;
    } finally {
      if (saved === undefined) delete process.env.ATLAS_CARD_ACCESS;
      else process.env.ATLAS_CARD_ACCESS = saved;
    }
    const m = JSON.parse(readFileSync(join(r.dir, 'manifest.json'), 'utf8'));
    expect(m.notes[0]).toMatch(
      /used blocks only; the root's partclone image made from them as they were read\)$/,
    );
    expect(r.sourceState).toBe('provisioned');
    expect(chkimg(join(r.dir, 'sdc2-root.partclone.gz'))).toBe(0);
    // The guest's partclone.ext4 over NBD (the clone before) wrote the same image.
    const unzip = (set: string) =>
      execFileSync('pigz', ['-dc', join(dirname(r.dir), set, 'sdc2-root.partclone.gz')], {
        maxBuffer: 1024 * MiB,
      });
    const viaHost = unzip('golden-clone-v8-1-0-VMS');
    const viaNbd = unzip('golden-clone-v8-1-0-VM');
    expect(viaHost.length).toBe(viaNbd.length);
    expect(viaHost.equals(viaNbd)).toBe(true);
  });

  it('verifies the card through the VM, attached read-only', async () => {
    const t0 = Date.now();
    const { result: r, log } = await runLogged((ctx) => verify(env, { card }, ctx));
    timings.verify = Date.now() - t0;
    expect(r.ok).toBe(true);
    expect(cardAccess(log)[0]).toMatch(/attached in the VM as \/dev\/nbd\d+/);
  });

  it('restores onto another card written through its block device in the VM: only used blocks are written', async () => {
    const targetFile = join(dir, 'new-card.img');
    usedCard(targetFile, 1500, 0x55);
    const target = attachAsDevice(targetFile);
    try {
      const t0 = Date.now();
      const { result: r, log } = await runLogged((ctx) =>
        restore(env, { card: target, set: 'v8-1-0-VM' }, ctx),
      );
      timings.restore = Date.now() - t0;
      timings.restoreNbdWrittenBytes = r.writtenBytes ?? -1;
      expect(r.grown).toBe(true);
      expect(cardAccess(log).join('\n')).toMatch(
        new RegExp(`^card access: ${r.writtenBytes} bytes written to the card through /dev/nbd\\d+$`, 'm'),
      );
      // No card-sized file was made in the work folder for it.
      expect(log.join('\n')).not.toMatch(/restore\.img/);
      expect(r.writtenBytes).toBeLessThanOrEqual(1.1 * usedBytes(cardFile) + 64 * MiB);
      expectGrownCopy(target, cardFile, 1500 * MiB);
    } finally {
      detach(target);
    }
  });

  it('inserts the payload into a base image: secrets reach the image root-only, never the share', async () => {
    const base = copyFixture(fixture('base'), dir, 'Armbian_26.2.1_Rpi4b_trixie_current_6.18.9_minimal.img');
    const payload = join(shared, 'payload');
    mkdirSync(payload, { recursive: true });
    writeFileSync(join(payload, 'atlas_firstboot.sh'), '#!/bin/bash\necho "provisioning"\n');
    writeFileSync(
      join(payload, 'atlas-firstboot.service'),
      '[Unit]\nDescription=first boot\n[Service]\nType=oneshot\nExecStart=/usr/local/bin/atlas_firstboot.sh\n[Install]\nWantedBy=multi-user.target\n',
    );
    const secrets = join(dir, 'private-tmp', 'atlas_secrets.conf');
    mkdirSync(join(dir, 'private-tmp'), { recursive: true });
    writeFileSync(secrets, `ROOT_PASSWORD="${SECRET}"\nOTTER_PASSWORD="otter-pw"\n`, { mode: 0o600 });
    const t0 = Date.now();
    const r = await run((ctx) => insert(env, { base, payload, secrets, version: '9.1.7', tag: 'VM' }, ctx));
    timings.insert = Date.now() - t0;
    expect(r.image).toBe(join(shared, 'ods-atlas-golden-v9-1-7-VM.img'));
    expect(e2fsckClean(r.image).code).toBe(0);
    expect(debugfsCat(r.image, '/usr/local/etc/atlas_secrets.conf')).toBe(readFileSync(secrets, 'utf8'));
    expect(debugfsStat(r.image, '/usr/local/etc/atlas_secrets.conf')).toMatchObject({ mode: '0600', uid: 0 });
    expect(debugfsCat(r.image, '/etc/shadow')).toMatch(/^root:\$6\$/m);
    const grep = spawnSync('grep', ['-rl', '--exclude=*.img', '--exclude-dir=payload', SECRET, shared]);
    expect(grep.stdout.toString()).toBe('');
  });

  it('shrinks the card into a clone image in the work dir', async () => {
    const t0 = Date.now();
    const r = await run((ctx) => shrink(env, { card, version: '9.1.7', tag: 'VM' }, ctx));
    timings.shrink = Date.now() - t0;
    expect(r.readBytes).toBeLessThanOrEqual(1.1 * usedBytes(cardFile) + 64 * MiB);
    expect(r.checklist.ok).toBe(true);
    expect(statSync(r.image).size).toBe(r.bytes);
    expect(e2fsckClean(r.image).code).toBe(0);
    expect(rootChecksums(r.image)).toEqual(rootChecksums(cardFile));
  });

  it('cancelling a clone stops the script inside the VM: no process, no loop device, nothing half-written', async () => {
    const job = startJob('clone', (ctx) => clone(env, { card, name: 'cancelled' }, ctx));
    job.on('event', (e: JobEvent) => {
      if (e.type === 'step' && e.step.id === 'clone-root') job.cancel();
    });
    await expect(job.promise).rejects.toMatchObject({ code: 'cancelled' });
    const left = await env.builder.guestCommand(
      [
        'sh',
        '-c',
        'pgrep -a -f "partclon[e]|clone_car[d]|soca[t]|nbd_car[d]" || true; sudo losetup -a; cat /sys/block/nbd*/pid 2>/dev/null',
      ],
      { workdir: '/' },
    );
    expect(left.stdout.trim()).toBe('');
    expect(liveProcessesMentioning(HELPER_PATH)).toEqual([]);
    expect(existsSync(join(shared, 'golden-clone-cancelled'))).toBe(false);
    expect(existsSync(join(shared, 'golden-clone-cancelled.partial'))).toBe(false);
    expect(readdirSync(join(shared, '.atlas-run'))).toEqual([]);
  });

  it('stops: the guest powers off and no QEMU, ssh or watcher process is left', async () => {
    const qemu = readFileSync(join(limaHome, VM, 'qemu.pid'), 'utf8').trim();
    const t0 = Date.now();
    await vmStop(lima);
    timings.stop = Date.now() - t0;
    expect((await lima.status(VM)).state).toBe('Stopped');
    expect(qemuProcesses(limaHome)).toEqual([]);
    const watcher = `atlas-testvm-watch ${process.pid} ${qemu}`;
    for (let i = 0; i < 10 && liveProcessesMentioning(watcher).length > 0; i++) await sleep(500);
    expect(liveProcessesMentioning(watcher)).toEqual([]);
    expect(existsSync(join(limaHome, VM, 'diffdisk'))).toBe(true);
  });
});
