// The VM as a Mac user first sets it up: the shipped template unchanged, the default library
// ~/atlas-build inside the home folder the VM shares read-only. The limactl double mounts the
// template's folders in the guest as Lima does (in template order, read-only ones read-only, a
// later mount over a parent hiding an earlier one below it), so this fails if the template lets
// the read-only home cover the work folder.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFixture, fixture, ROOT, scratch } from '../helpers/fixtures.js';
import { attachAsDevice, detach } from '../helpers/disk-tools.js';
import { startJob, type JobContext } from '../../src-main/core/jobs/job.js';
import { clone } from '../../src-main/core/phases/clone.js';
import { Limactl } from '../../src-main/core/lima/limactl.js';
import { LimaBuilder } from '../../src-main/core/lima/lima-builder.js';
import { VM_TEMPLATE, vmSetup, vmStatus } from '../../src-main/core/lima/vm.js';

const DOUBLES = join(ROOT, 'test', 'doubles', 'bin');
const VM = 'atlas-build';
const ENV_KEYS = ['PATH', 'HOME', 'LIMA_HOME', 'ATLAS_LIMACTL', 'ATLAS_LIMA_DOUBLE_HIDE'] as const;

const run = <T>(fn: (ctx: JobContext) => Promise<T>): Promise<T> => startJob('test', fn).promise;

describe('the shipped template, with the library in its default place inside ~', () => {
  const saved: Partial<Record<(typeof ENV_KEYS)[number], string>> = {};
  let home: string;
  let library: string;
  let limaHome: string;
  let lima: Limactl;

  beforeAll(() => {
    for (const k of ENV_KEYS) if (process.env[k] !== undefined) saved[k] = process.env[k];
    home = join(scratch('lima-mount-order'), 'Users', 'pi');
    mkdirSync(home, { recursive: true });
    library = join(home, 'atlas-build');
    limaHome = mkdtempSync('/tmp/alh-order-');
    process.env.PATH = `${DOUBLES}:${process.env.PATH}`;
    process.env.HOME = home;
    process.env.LIMA_HOME = limaHome;
    delete process.env.ATLAS_LIMACTL;
    process.env.ATLAS_LIMA_DOUBLE_HIDE = join(ROOT, 'lima', 'scripts');
    lima = Limactl.locate();
  });

  afterAll(async () => {
    await lima?.delete(VM, { force: true }).catch(() => undefined);
    for (const k of ENV_KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    rmSync(limaHome, { recursive: true, force: true });
  });

  it('vm setup succeeds and the VM writes the library through the writable share', async () => {
    const setup = await run((ctx) => vmSetup(lima, { library, template: VM_TEMPLATE }, ctx));
    expect(setup.state).toBe('Running');
    const info = await vmStatus(lima, { library });
    expect(info.sharedFolders).toContainEqual({ host: home, guest: home, writable: false });
    expect(info.libraryInVm).toBeDefined();
    expect(info.libraryInVm!.startsWith(`${home}/`)).toBe(false);

    const card = copyFixture(fixture('provisioned'), library, 'card.img');
    const builder = await LimaBuilder.connect({ limactl: lima, workDir: library });
    const set = await run((ctx) => clone({ builder, library }, { card, name: 'first-boot' }, ctx));
    expect(set.dir).toBe(join(library, 'golden-clone-first-boot'));
    expect(existsSync(join(set.dir, 'manifest.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(set.dir, 'manifest.json'), 'utf8')).sourceState).toBe('provisioned');
  });

  it("a guest session holds none of the host's mounts: the host unmounts and checks its own file system", async () => {
    // The host mounts a file system, a guest command starts meanwhile (as a clone in the VM runs
    // beside a shrink on the host), then the host unmounts it and checks it: a VM has its own
    // kernel, so the device is free at once.
    const fsFile = join(home, 'host-fs.ext4');
    spawnSync('truncate', ['-s', '32M', fsFile]);
    expect(spawnSync('mkfs.ext4', ['-q', '-F', fsFile]).status).toBe(0);
    const dev = attachAsDevice(fsFile);
    const mnt = mkdtempSync('/tmp/host-mnt-');
    try {
      expect(spawnSync('mount', [dev, mnt]).status).toBe(0);
      const guest = spawn('limactl', ['shell', VM, 'sleep', '4.2718'], { stdio: 'ignore' });
      const ended = new Promise((r) => guest.on('close', r));
      // Once the guest's command runs (its mount namespace made), however long the start takes.
      await expect.poll(() => spawnSync('pgrep', ['-f', '^sleep 4.2718$']).status).toBe(0);
      expect(spawnSync('umount', [mnt]).status).toBe(0);
      const fsck = spawnSync('e2fsck', ['-f', '-y', dev], { encoding: 'utf8' });
      expect(fsck.status, fsck.stdout + fsck.stderr).toBe(0);
      await ended;
    } finally {
      spawnSync('umount', [mnt]);
      detach(dev);
      rmSync(mnt, { recursive: true, force: true });
    }
  });
});
