// The Lima builder, run for real on this Linux box: the builder scripts go through LimaBuilder and
// test/doubles/bin/limactl (which runs them here as root, in a namespace that hides the host side
// of the shared folder; see test/doubles/README.md) on generated card images. The library is
// shared at a different path in the "VM", so every path must really be translated. Results are
// compared with the same operations through LocalBuilder.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFixture, fixture, ROOT, scratch } from '../helpers/fixtures.js';
import {
  bootChecksums,
  chkimg,
  debugfsCat,
  debugfsStat,
  e2fsckClean,
  loopDevicesLeft,
  rootChecksums,
  sfdiskJson,
} from '../helpers/disk-tools.js';
import { startJob, type JobContext, type JobEvent } from '../../src-main/core/jobs/job.js';
import { AtlasError } from '../../src-main/core/errors.js';
import { LocalBuilder } from '../../src-main/core/builder/local-builder.js';
import { clone } from '../../src-main/core/phases/clone.js';
import { restore } from '../../src-main/core/phases/restore.js';
import { insert } from '../../src-main/core/phases/insert.js';
import { shrink } from '../../src-main/core/phases/shrink.js';
import { runTool } from '../../src-main/core/tools/run-tool.js';
import { Limactl } from '../../src-main/core/lima/limactl.js';
import { GUEST_SECRETS_PATH, LimaBuilder } from '../../src-main/core/lima/lima-builder.js';
import { vmSetup, vmStart, vmStop, vmShellArgs, vmStatus } from '../../src-main/core/lima/vm.js';
import { runDoctor } from '../../src-main/core/lima/doctor.js';
import { scriptsHash } from '../../src-main/core/lima/stage-scripts.js';
import { cliHint } from '../../src-main/cli/next-steps.js';
import { odsSdInProcess, type InProcessRun } from '../helpers/cli-in-process.js';

const DOUBLES = join(ROOT, 'test', 'doubles', 'bin');
const VM = 'atlas-build';
const SECRET = 'Lima-Sup3r-Secr3t-pw';
const ENV_KEYS = [
  'PATH',
  'LIMA_HOME',
  'ATLAS_LIMACTL',
  'ATLAS_LIMA_DOUBLE_FAIL',
  'ATLAS_LIMA_DOUBLE_HIDE',
  'ATLAS_LIMA_DOUBLE_ARGV_LOG',
] as const;

function emptyCard(dir: string, name: string, bytes: number): string {
  const p = join(dir, name);
  writeFileSync(p, '');
  execFileSync('truncate', ['-s', String(bytes), p]);
  return p;
}

interface Ran<T> {
  result: T;
  events: JobEvent[];
}

/** Runs a job to the end, keeping its events (steps, progress, log lines). */
async function runJob<T>(fn: (ctx: JobContext) => Promise<T>): Promise<Ran<T>> {
  const job = startJob('test', fn);
  const events: JobEvent[] = [];
  job.on('event', (e: JobEvent) => events.push(e));
  return { result: await job.promise, events };
}

/** The job's failure, with its events. */
async function failJob(
  fn: (ctx: JobContext) => Promise<unknown>,
): Promise<{ error: AtlasError; events: JobEvent[] }> {
  const job = startJob('test', fn);
  const events: JobEvent[] = [];
  job.on('event', (e: JobEvent) => events.push(e));
  const error = await job.promise.then(
    () => {
      throw new Error('the job was expected to fail');
    },
    (e: AtlasError) => e,
  );
  return { error, events };
}

/** Live processes whose command line mentions `text` (zombies do not count). */
function liveProcessesMentioning(text: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (state !== 'Z' && cmd.includes(text)) out.push(`${pid} ${cmd}`);
    } catch {
      /* gone */
    }
  }
  return out;
}

function makePayload(dir: string): { payload: string; secrets: string } {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'atlas_firstboot.sh'), '#!/bin/bash\necho "provisioning"\n');
  writeFileSync(
    join(dir, 'atlas-firstboot.service'),
    '[Unit]\nDescription=first boot\n[Service]\nType=oneshot\nExecStart=/usr/local/bin/atlas_firstboot.sh\n[Install]\nWantedBy=multi-user.target\n',
  );
  const secrets = join(dir, 'atlas_secrets.conf');
  writeFileSync(secrets, `ROOT_PASSWORD="${SECRET}"\nOTTER_PASSWORD="otter-pw"\n`, { mode: 0o600 });
  return { payload: dir, secrets };
}

/** Runs `ods-sd vm ARGS` in this process, capturing what it prints. */
function odsSdVm(args: string[]): Promise<InProcessRun> {
  return odsSdInProcess(['vm', ...args]);
}

describe('LimaBuilder (through the limactl double)', () => {
  const saved: Partial<Record<(typeof ENV_KEYS)[number], string>> = {};
  let dir: string;
  let shared: string; // the library on the host
  let guestRoot: string;
  let guest: string; // the same folder, as the VM sees it
  let limaHomeDir: string;
  let argvLog: string;
  let template: string;
  let lima: Limactl;
  let lb: LimaBuilder;
  let localLib: string;
  let sourceCard: string;
  const local = new LocalBuilder();

  const calls = (): string[][] =>
    existsSync(argvLog)
      ? readFileSync(argvLog, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as string[])
      : [];
  const viaLima = () => ({ builder: lb, library: shared });
  const viaLocal = () => ({ builder: local, library: localLib });

  beforeAll(async () => {
    for (const k of ENV_KEYS) if (process.env[k] !== undefined) saved[k] = process.env[k];
    dir = scratch('lima');
    shared = join(dir, 'shared');
    localLib = join(dir, 'local-lib');
    guestRoot = mkdtempSync('/tmp/atlas-guest-');
    guest = join(guestRoot, 'work');
    limaHomeDir = mkdtempSync('/tmp/alh-');
    argvLog = join(dir, 'limactl-argv.jsonl');
    process.env.PATH = `${DOUBLES}:${process.env.PATH}`;
    process.env.LIMA_HOME = limaHomeDir;
    delete process.env.ATLAS_LIMACTL;
    delete process.env.ATLAS_LIMA_DOUBLE_FAIL;
    // Not shared with the VM: the app's own scripts and the fixture cache.
    process.env.ATLAS_LIMA_DOUBLE_HIDE = [
      join(ROOT, 'lima', 'scripts'),
      join(ROOT, 'test-output', 'fixtures'),
    ].join(':');
    process.env.ATLAS_LIMA_DOUBLE_ARGV_LOG = argvLog;

    // lima/atlas-build.yaml, with the work folder mounted at another path in the guest.
    const text = readFileSync(join(ROOT, 'lima', 'atlas-build.yaml'), 'utf8');
    const remapped = text.replace('mountPoint: /mnt/atlas-work', `mountPoint: '${guest}'`);
    expect(remapped).not.toBe(text);
    template = join(dir, 'atlas-build.yaml');
    writeFileSync(template, remapped);

    lima = Limactl.locate();
    await runJob((ctx) => vmSetup(lima, { library: shared, template }, ctx));
    lb = await LimaBuilder.connect({ limactl: lima });
    sourceCard = copyFixture(fixture('provisioned', { fillMiB: 24 }), shared, 'dev-card.img');
  });

  afterAll(async () => {
    await lima?.delete(VM, { force: true }).catch(() => undefined);
    for (const k of ENV_KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    rmSync(limaHomeDir, { recursive: true, force: true });
    // Never delete through a bind mount the double failed to undo: that would empty the library.
    const mounted = readFileSync('/proc/self/mounts', 'utf8').includes(` ${guest} `);
    if (!mounted) rmSync(guestRoot, { recursive: true, force: true });
  });

  describe('the VM', () => {
    it('vm setup created it from the template, sharing the library read-write at another guest path', async () => {
      expect(lima.path).toBe(join(DOUBLES, 'limactl'));
      const create = calls().find((c) => c[0] === 'create');
      expect(create).toEqual([
        'create',
        `--name=${VM}`,
        '--tty=false',
        '--log-format=json',
        '--set',
        `.param.WORKDIR = "${shared}"`,
        template,
      ]);
      const info = await vmStatus(lima, { library: shared });
      expect(info.state).toBe('Running');
      expect(info.libraryInVm).toBe(guest);
      expect(info.sharedFolders).toContainEqual({ host: shared, guest, writable: true });
      expect(lb.describe()).toMatch(/^the atlas-build Lima VM \(vz, (x86_64|aarch64)\)$/);
    });

    it('setting it up again changes nothing', async () => {
      const before = calls().length;
      const { result, events } = await runJob((ctx) => vmSetup(lima, { library: shared, template }, ctx));
      expect(result).toMatchObject({ created: false, started: false, state: 'Running', libraryInVm: guest });
      expect(
        calls()
          .slice(before)
          .map((c) => c[0]),
      ).not.toContain('create');
      expect(events.some((e) => e.type === 'log' && /exists already/.test(e.line))).toBe(true);
    });

    it('the shell command line is limactl shell in the library', async () => {
      const info = await vmStatus(lima, { library: shared });
      expect(vmShellArgs(lima, info)).toEqual({
        command: lima.path,
        args: ['shell', `--workdir=${guest}`, VM],
      });
    });

    it('the double behaves like ssh: killing limactl shell leaves the command running in the VM', async () => {
      const marker = '61.2345';
      const controller = new AbortController();
      const running = runTool(lima.path, lima.shellArgs(VM, ['sleep', marker], '/'), {
        signal: controller.signal,
      });
      // Aborted once the command runs in the "VM" (the double's start takes a while on a busy machine).
      const sleeping = () =>
        liveProcessesMentioning(`sleep ${marker}`).filter((p) => p.split(' ')[1] === 'sleep');
      await expect.poll(() => sleeping().length).toBe(1);
      controller.abort();
      await expect(running).rejects.toMatchObject({ code: 'cancelled' });
      const left = sleeping();
      expect(left).toHaveLength(1);
      process.kill(Number(left[0]!.split(' ')[0]), 'SIGKILL');
    });
  });

  describe('the phases through the VM give the same results as on this host', () => {
    let limaSet: string;
    let localSet: string;

    it(
      'clone: same clone set, scripts run from a staged copy with guest paths only',
      { timeout: 300_000 },
      async () => {
        const before = calls().length;
        const viaVm = await runJob((ctx) => clone(viaLima(), { card: sourceCard, name: 'via-lima' }, ctx));
        const here = await runJob((ctx) => clone(viaLocal(), { card: sourceCard, name: 'via-local' }, ctx));
        limaSet = viaVm.result.dir;
        localSet = here.result.dir;
        expect(limaSet).toBe(join(shared, 'golden-clone-via-lima'));
        expect(viaVm.result.files.map((f) => f.name)).toEqual(here.result.files.map((f) => f.name));
        // sfdisk names the card as the script saw it: the guest path in the VM.
        const vmDump = readFileSync(join(limaSet, 'partition-table.dump'), 'utf8');
        const hostDump = readFileSync(join(localSet, 'partition-table.dump'), 'utf8');
        expect(vmDump).toMatch(new RegExp(`^${guest}/dev-card\\.img1 : start=`, 'm'));
        expect(vmDump.replaceAll(`${guest}/`, '')).toBe(hostDump.replaceAll(`${shared}/`, ''));
        expect(chkimg(join(limaSet, 'sdc1-boot.partclone.gz'))).toBe(0);
        expect(chkimg(join(limaSet, 'sdc2-root.partclone.gz'))).toBe(0);
        const m = JSON.parse(readFileSync(join(limaSet, 'manifest.json'), 'utf8'));
        const n = JSON.parse(readFileSync(join(localSet, 'manifest.json'), 'utf8'));
        expect(m.layout).toEqual(n.layout);
        expect(m.sourceState).toBe('provisioned');
        expect(m.sourceState).toBe(n.sourceState);
        expect(m.tools).toEqual(n.tools);
        expect(m.createdBy.builder).toMatch(/^the atlas-build Lima VM/);
        expect(n.createdBy.builder).toBe('this Linux host');

        // Every script ran in the VM: from the staged copy, in the guest work dir, with guest paths.
        const hash = await scriptsHash(join(ROOT, 'lima', 'scripts'));
        const runner = `${guest}/.atlas-scripts/${hash}/atlas-run.sh`;
        const shells = calls()
          .slice(before)
          .filter((c) => c[0] === 'shell');
        expect(shells.map((c) => c[c.indexOf('--') + 5])).toEqual([
          'probe_root.sh',
          'clone_card.sh',
          'tool_versions.sh',
        ]);
        for (const c of shells) {
          expect(c.slice(0, 6)).toEqual(['shell', `--workdir=${guest}`, '--tty=false', VM, '--', 'sudo']);
          expect(c.slice(6, 8)).toEqual(['bash', runner]);
          expect(c[8]).toMatch(new RegExp(`^${guest}/\\.atlas-run/[0-9a-f-]+\\.pid$`));
          expect(c.filter((a) => a.startsWith(shared))).toEqual([]);
        }
        const cloneCall = shells[1]!;
        expect(cloneCall.slice(10)).toEqual([
          `${guest}/dev-card.img`,
          `${guest}/golden-clone-via-lima.partial`,
          '2',
        ]);
        expect(readdirSync(join(shared, '.atlas-run'))).toEqual([]);
      },
    );

    // An image file in the shared folder is in the library, which is never a target: the VM's
    // image-file card lies outside it, and reaches the VM through the work dir.
    it(
      'restore onto an image-file card outside the shared folder: same table and files',
      { timeout: 300_000 },
      async () => {
        const size = 1536 * 1024 * 1024;
        const vmCard = emptyCard(dir, 'new-card.img', size);
        const hostCard = emptyCard(dir, 'local-card.img', size);
        const a = await runJob((ctx) => restore(viaLima(), { card: vmCard, set: 'via-lima' }, ctx));
        const b = await runJob((ctx) => restore(viaLocal(), { card: hostCard, set: 'via-local' }, ctx));
        expect(a.result).toMatchObject({ grown: true, rootSectors: b.result.rootSectors, set: limaSet });
        const layout = (img: string) => sfdiskJson(img).partitions.map((p) => [p.start, p.size, p.type]);
        expect(layout(vmCard)).toEqual(layout(hostCard));
        expect(e2fsckClean(vmCard).code).toBe(0);
        const files = rootChecksums(vmCard);
        expect(files).toEqual(rootChecksums(hostCard));
        expect(files).toEqual(rootChecksums(sourceCard));
        expect(bootChecksums(vmCard)).toEqual(bootChecksums(hostCard));
      },
    );

    it(
      'insert: same golden image, and the secrets never appear in a log, an event or a command line',
      { timeout: 300_000 },
      async () => {
        const base = copyFixture(
          fixture('base'),
          dir,
          'Armbian_26.2.1_Rpi4b_trixie_current_6.18.9_minimal.img',
        );
        const { payload } = makePayload(join(shared, 'payload'));
        // Like the app's decrypted copy: outside every shared folder, so it can only reach the VM
        // through stageSecrets.
        const secrets = join(dir, 'private-tmp', 'atlas_secrets.conf');
        mkdirSync(join(dir, 'private-tmp'), { recursive: true });
        writeFileSync(secrets, readFileSync(join(payload, 'atlas_secrets.conf')), { mode: 0o600 });
        const params = { base, payload, secrets, version: '9.1.7' };
        const before = calls().length;
        const a = await runJob((ctx) => insert(viaLima(), { ...params, tag: 'LIMA' }, ctx));
        const b = await runJob((ctx) => insert(viaLocal(), { ...params, tag: 'LOCAL' }, ctx));
        expect(a.result.image).toBe(join(shared, 'ods-atlas-golden-v9-1-7-LIMA.img'));
        expect(JSON.stringify(a.events)).not.toContain(SECRET);
        expect(JSON.stringify(calls().slice(before))).not.toContain(SECRET);
        const inject = calls()
          .slice(before)
          .find((c) => c.some((a) => a.endsWith('inject_atlas.sh')));
        expect(inject).toContain(GUEST_SECRETS_PATH);
        expect(JSON.stringify(calls().slice(before))).not.toContain(secrets);
        expect(a.result.injected).toEqual(b.result.injected);
        expect(e2fsckClean(a.result.image).code).toBe(0);
        expect(debugfsCat(a.result.image, '/usr/local/etc/atlas_secrets.conf')).toBe(
          readFileSync(secrets, 'utf8'),
        );
        expect(debugfsStat(a.result.image, '/usr/local/etc/atlas_secrets.conf')).toMatchObject({
          mode: '0600',
          uid: 0,
        });
        // The same files, but /etc/shadow: the root password hash has a random salt.
        const files = (img: string) => {
          const m = rootChecksums(img);
          m.delete('etc/shadow');
          return m;
        };
        expect(files(a.result.image)).toEqual(files(b.result.image));
        expect(debugfsCat(a.result.image, '/etc/shadow')).toMatch(/^root:\$6\$/m);
        expect(bootChecksums(a.result.image)).toEqual(bootChecksums(b.result.image));
      },
    );

    it('stageSecrets hands the secrets to the VM on stdin only, root-only in /var/lib/atlas-build', async () => {
      const file = join(dir, 'outside-the-share', 'atlas_secrets.conf');
      mkdirSync(join(dir, 'outside-the-share'), { recursive: true });
      writeFileSync(file, `ROOT_PASSWORD="${SECRET}"\n`, { mode: 0o600 });
      const before = calls().length;
      const { result, events } = await runJob((ctx) => lb.stageSecrets(file, ctx));
      expect(result).toBe(GUEST_SECRETS_PATH);
      const stat = await lb.guestCommand(['sudo', 'stat', '-c', '%a %U', GUEST_SECRETS_PATH], {
        workdir: '/',
      });
      expect(stat.stdout.trim()).toBe('600 root');
      const cat = await lb.guestCommand(['sudo', 'cat', GUEST_SECRETS_PATH], { workdir: '/' });
      expect(cat.stdout).toBe(readFileSync(file, 'utf8').trimEnd());
      const mine = calls().slice(before);
      expect(mine.find((c) => c[0] === 'shell')).toEqual([
        'shell',
        '--workdir=/',
        '--tty=false',
        VM,
        '--',
        'sudo',
        'install',
        '-D',
        '-m',
        '0600',
        '/dev/stdin',
        GUEST_SECRETS_PATH,
      ]);
      expect(JSON.stringify(mine)).not.toContain(SECRET);
      expect(JSON.stringify(events)).not.toContain(SECRET);
      // Nothing of it landed in the shared folder.
      expect(
        spawnSync('grep', [
          '-rl',
          '--exclude=*.img',
          '--exclude-dir=payload',
          SECRET,
          shared,
        ]).stdout.toString(),
      ).toBe('');
    });

    it('shrink: same shrunk image', { timeout: 300_000 }, async () => {
      const card = copyFixture(fixture('provisioned', { fillMiB: 24 }), shared, 'shrink-card.img');
      const a = await runJob((ctx) => shrink(viaLima(), { card, version: '9.1.7', tag: 'LIMA' }, ctx));
      const b = await runJob((ctx) => shrink(viaLocal(), { card, version: '9.1.7', tag: 'LOCAL' }, ctx));
      expect(a.result.checklist.ok).toBe(true);
      expect(a.result).toMatchObject({
        bytes: b.result.bytes,
        rootStart: b.result.rootStart,
        rootSectors: b.result.rootSectors,
        fsBlocks: b.result.fsBlocks,
        resizeService: b.result.resizeService,
      });
      expect(statSync(a.result.image).size).toBe(b.result.bytes);
      expect(e2fsckClean(a.result.image).code).toBe(0);
      const layout = (img: string) => sfdiskJson(img).partitions.map((p) => [p.start, p.size, p.type]);
      expect(layout(a.result.image)).toEqual(layout(b.result.image));
      expect(rootChecksums(a.result.image)).toEqual(rootChecksums(b.result.image));
    });
  });

  describe('failures say what happened and what to do', () => {
    it(
      'a card image outside the shared folders is read (used blocks) into the work dir first',
      { timeout: 300_000 },
      async () => {
        const outside = fixture('provisioned', { fillMiB: 24 });
        const before = calls().length;
        const { result } = await runJob((ctx) => clone(viaLima(), { card: outside, name: 'outside' }, ctx));
        const m = JSON.parse(readFileSync(join(result.dir, 'manifest.json'), 'utf8'));
        expect(m.notes.join(' ')).toMatch(
          /used blocks only; the root's partclone image made from them as they were read/,
        );
        // The VM was handed the image on stdin: the fourth argument says so.
        const cloneCall = calls()
          .slice(before)
          .find((c) => c.includes('clone_card.sh'))!;
        expect(cloneCall.slice(-2)).toEqual(['2', '-']);
        expect(chkimg(join(result.dir, 'sdc2-root.partclone.gz'))).toBe(0);
        expect(m.sourceState).toBe('provisioned');
        // The staged copy is gone once the clone is done.
        expect(readdirSync(join(shared, '.atlas-tmp'))).toEqual([]);
      },
    );

    it(
      'a GPT card outside the shared folders: its table and both images, in one read',
      { timeout: 300_000 },
      async () => {
        const gpt = fixture('provisioned', { fillMiB: 24, label: 'gpt' });
        const { result } = await runJob((ctx) => clone(viaLima(), { card: gpt, name: 'outside-gpt' }, ctx));
        const m = JSON.parse(readFileSync(join(result.dir, 'manifest.json'), 'utf8'));
        expect(m.notes.join(' ')).toMatch(/the root's partclone image made from them as they were read/);
        expect(m.layout.table).toBe('gpt');
        const dump = readFileSync(join(result.dir, 'partition-table.dump'), 'utf8');
        const strip = (d: string) =>
          d
            .split('\n')
            .filter((l) => /^(label|first-lba|last-lba|\S+ : start=)/.test(l))
            .map((l) => l.replace(/^\S+ : /, ''))
            .join('\n');
        expect(strip(dump)).toBe(strip(execFileSync('sfdisk', ['--dump', gpt], { encoding: 'utf8' })));
        expect(chkimg(join(result.dir, 'sdc1-boot.partclone.gz'))).toBe(0);
        expect(chkimg(join(result.dir, 'sdc2-root.partclone.gz'))).toBe(0);
      },
    );

    it(
      'a card that cannot be imaged while it is read (no ext root) fails as on this host, in one read',
      { timeout: 300_000 },
      async () => {
        const outside = fixture('no-ext4');
        const vm = await failJob((ctx) => clone(viaLima(), { card: outside, name: 'outside-no-root' }, ctx));
        expect(vm.error.code).toBe('unsupported');
        expect(vm.error.message).toMatch(
          /^partition 2 is '.*', expected the ext4 root partition armbi_root$/,
        );
        const logs = vm.events.flatMap((e) => (e.type === 'log' ? [e.line] : []));
        expect(logs.join('\n')).toMatch(/the partclone image of partition 2 is made after the copy/);
        expect(vm.events.filter((e) => e.type === 'step' && e.step.id === 'read-used')).toHaveLength(1);
        expect(existsSync(join(shared, 'golden-clone-outside-no-root.partial'))).toBe(false);
        expect(readdirSync(join(shared, '.atlas-tmp'))).toEqual([]);
      },
    );

    it(
      'a card pulled while it is read and imaged: the card is named the cause, nothing is left',
      { timeout: 300_000 },
      async () => {
        const pulled = copyFixture(fixture('provisioned', { fillMiB: 24 }), dir, 'pulled-card.img');
        let cut = false;
        const job = startJob('clone', (ctx) => clone(viaLima(), { card: pulled, name: 'pulled' }, ctx));
        job.on('event', (e: JobEvent) => {
          if (!cut && e.type === 'progress' && e.stepId === 'read-used') {
            cut = true;
            truncateSync(pulled, 300 * 1024 * 1024);
          }
        });
        await expect(job.promise).rejects.toMatchObject({ code: 'card-changed' });
        expect(cut).toBe(true);
        expect(existsSync(join(shared, 'golden-clone-pulled'))).toBe(false);
        expect(existsSync(join(shared, 'golden-clone-pulled.partial'))).toBe(false);
        expect(readdirSync(join(shared, '.atlas-tmp'))).toEqual([]);
        expect(liveProcessesMentioning('golden-clone-pulled')).toEqual([]);
      },
    );

    it('refuses an output folder outside the shared folders before anything runs in the VM', async () => {
      const outside = join(dir, 'not-shared');
      const before = calls().length;
      const { error } = await failJob((ctx) =>
        shrink(viaLima(), { card: sourceCard, version: '1.0.0', tag: 'OUT', outDir: outside }, ctx),
      );
      expect(error).toMatchObject({ code: 'bad-input' });
      expect(error.message).toMatch(/is outside the folders shared with the atlas-build VM/);
      expect(error.next).toEqual([{ do: 'vm-recreate', instance: VM }]);
      expect(cliHint(error)).toMatch(/ods-sd vm recreate --library DIR/);
      expect(
        calls()
          .slice(before)
          .filter((c) => c[0] === 'shell'),
      ).toEqual([]);
      expect(existsSync(outside)).toBe(false);
    });

    it('reads through the read-only home folder, but never lets the VM write there', () => {
      const home = homedir();
      expect(lb.sharedFolders).toContainEqual({ host: home, guest: home, writable: false });
      expect(lb.toBuilderPath(home)).toBe(home);
      expect(() => lb.toBuilderPath(join(home, 'no-such-dir', 'out.img'))).toThrow(
        new RegExp(
          `^${home}/no-such-dir/out\\.img would be written by the atlas-build VM, but ${home} is shared read-only$`,
        ),
      );
    });

    it(
      'a builder script that fails in the VM reports its own reason, exactly as on this host',
      { timeout: 300_000 },
      async () => {
        const card = copyFixture(fixture('no-ext4'), shared, 'no-ext4.img');
        const vm = await failJob((ctx) => clone(viaLima(), { card, name: 'no-root' }, ctx));
        const here = await failJob((ctx) => clone(viaLocal(), { card, name: 'no-root' }, ctx));
        expect(vm.error.code).toBe('unsupported');
        expect(vm.error.message).toMatch(
          /^partition 2 is '.*', expected the ext4 root partition armbi_root$/,
        );
        expect(vm.error.toJSON()).toEqual(here.error.toJSON());
        expect(existsSync(join(shared, 'golden-clone-no-root.partial'))).toBe(false);
        expect(await loopDevicesLeft(card)).toEqual([]);
      },
    );

    it('when ssh cannot reach the VM: "could not reach the atlas-build VM", with what to run', async () => {
      process.env.ATLAS_LIMA_DOUBLE_FAIL = 'ssh';
      try {
        const { error } = await failJob((ctx) => lb.runScript('tool_versions.sh', [], ctx));
        expect(error.code).toBe('tool-failed');
        expect(error.message).toMatch(
          /^could not reach the atlas-build VM: ssh: connect to host 127\.0\.0\.1 port \d+: Connection refused$/,
        );
        expect(error.next).toEqual([{ do: 'vm-doctor' }, { do: 'vm-start' }]);
        expect(cliHint(error)).toMatch(/ods-sd vm doctor; start it: ods-sd vm start/);
      } finally {
        delete process.env.ATLAS_LIMA_DOUBLE_FAIL;
      }
    });

    it('a stopped VM: the job says so and how to start it; vm start brings it back', async () => {
      const stopped = await vmStop(lima);
      expect(stopped).toMatchObject({ state: 'Stopped', stopped: true });
      const { error } = await failJob((ctx) => lb.runScript('tool_versions.sh', [], ctx));
      expect(error.toJSON()).toEqual({
        code: 'tool-failed',
        message: 'the atlas-build VM is stopped',
        next: [{ do: 'vm-start' }],
      });
      expect(existsSync(guest) && readdirSync(guest).length).toBe(0); // the guest mount is gone
      const { result } = await runJob((ctx) => vmStart(lima, ctx, { library: shared }));
      expect(result).toMatchObject({ state: 'Running', started: true, recovered: false, libraryInVm: guest });
      expect(readdirSync(guest)).toContain('dev-card.img');
    });

    it("a VM that fails to start is Broken with the host agent log's reason; vm start repairs it", async () => {
      await vmStop(lima);
      process.env.ATLAS_LIMA_DOUBLE_FAIL = 'start-fatal';
      try {
        const failed = await failJob((ctx) => vmStart(lima, ctx));
        expect(failed.error.message).toMatch(
          /^the atlas-build VM did not start: failed to start the VM: Error Domain=VZErrorDomain Code=1 .*Internal Virtualization error/,
        );
        expect(failed.error.hint).toContain(join(limaHomeDir, VM, 'ha.stderr.log'));
        // Lima's progress went into the job log as plain messages.
        const logs = failed.events.flatMap((e) => (e.type === 'log' ? [e.line] : []));
        expect(logs).toContain('Starting the instance `atlas-build` with internal VM driver `vz`');
      } finally {
        delete process.env.ATLAS_LIMA_DOUBLE_FAIL;
      }
      const { error } = await failJob((ctx) => lb.runScript('tool_versions.sh', [], ctx));
      expect(error.message).toMatch(
        /^the atlas-build VM is broken: host agent process has exited; failed to start the VM: /,
      );
      expect(error.next).toEqual([{ do: 'vm-start' }, { do: 'vm-doctor' }]);
      expect(cliHint(error)).toMatch(
        /ods-sd vm start \(it repairs a broken VM with limactl stop -f, then start\)/,
      );
      const status = await odsSdVm(['status', '--json', '--library', shared]);
      expect(status.code).toBe(0);
      expect(status.json.result).toMatchObject({ state: 'Broken' });
      expect(status.stdout).toMatch(
        /atlas-build: Broken .*\n {2}shares .* \(read-write\)\n[\s\S]*cause: host agent process has exited/,
      );

      const before = calls().length;
      const { result } = await runJob((ctx) => vmStart(lima, ctx));
      expect(result).toMatchObject({ state: 'Running', started: true, recovered: true });
      expect(calls().slice(before)).toContainEqual([
        'stop',
        '--force',
        '--tty=false',
        '--log-format=json',
        VM,
      ]);
    });

    it('a VM that does not exist: not-found, create it with vm setup', async () => {
      const other = await LimaBuilder.connect({ limactl: lima, instance: 'atlas-nope' });
      expect(other.status.state).toBe('missing');
      expect(() => other.toBuilderPath(sourceCard)).toThrow(/^the atlas-nope VM does not exist$/);
      const { error } = await failJob((ctx) => other.runScript('tool_versions.sh', [], ctx));
      expect(error.toJSON()).toEqual({
        code: 'not-found',
        message: 'the atlas-nope VM does not exist',
        next: [{ do: 'vm-setup' }],
      });
    });

    it('no Lima on the machine: missing-tool, with how to install it', async () => {
      const none = await LimaBuilder.connect({ limactl: undefined });
      const { error } = await failJob((ctx) => none.runScript('tool_versions.sh', [], ctx));
      expect(error.code).toBe('missing-tool');
      expect(error.hint).toMatch(/brew install lima/);
      expect(() => none.toBuilderPath(sourceCard)).toThrow(/limactl \(Lima\) is not installed/);
      expect(Limactl.find({ PATH: '/nonexistent' })).toBeUndefined();
    });

    it('cancelling a clone stops the script inside the VM: no loop device, nothing half-written', async () => {
      const card = copyFixture(fixture('provisioned', { fillMiB: 24 }), shared, 'cancel-card.img');
      // The guest's partclone.ext4 as it is, then a pause: the script is still there when the
      // app's kill reaches the VM, however long that takes on a busy machine.
      const guestBin = scratch('cancel-guest-bin');
      const real = execFileSync('bash', ['-c', 'command -v partclone.ext4'], { encoding: 'utf8' }).trim();
      writeFileSync(
        join(guestBin, 'partclone.ext4'),
        `#!/bin/sh
${real} "$@"; rc=$?; sleep 60; exit $rc
`,
        {
          mode: 0o755,
        },
      );
      process.env.LIMACTL_DOUBLE_GUEST_BIN = guestBin;
      const before = calls().length;
      const job = startJob('clone', (ctx) => clone(viaLima(), { card, name: 'cancelled' }, ctx));
      job.on('event', (e: JobEvent) => {
        if (e.type === 'step' && e.step.id === 'clone-root') job.cancel();
      });
      try {
        await expect(job.promise).rejects.toMatchObject({ code: 'cancelled' });
      } finally {
        delete process.env.LIMACTL_DOUBLE_GUEST_BIN;
      }
      expect(job.state).toBe('cancelled');
      // The app asked the VM to end the script's process group, and it was still there to end.
      const kills = calls()
        .slice(before)
        .filter((c) => c.includes('kill'));
      expect(kills[0]?.slice(-4)).toEqual(['kill', '-TERM', '--', expect.stringMatching(/^-\d+$/)]);
      expect(kills.some((c) => c.includes('-0'))).toBe(true);
      expect(liveProcessesMentioning(join(guest, 'cancel-card.img'))).toEqual([]);
      expect(await loopDevicesLeft(card)).toEqual([]);
      expect(await loopDevicesLeft(join(guest, 'cancel-card.img'))).toEqual([]);
      expect(existsSync(join(shared, 'golden-clone-cancelled'))).toBe(false);
      expect(existsSync(join(shared, 'golden-clone-cancelled.partial'))).toBe(false);
      expect(readdirSync(join(shared, '.atlas-run'))).toEqual([]);
    });
  });

  describe('ods-sd vm and the doctor', () => {
    it('the doctor passes every check with the VM running and the library shared', async () => {
      const { result } = await runJob((ctx) =>
        runDoctor({ library: shared, limactl: lima, minFreeBytes: 1e6 }, ctx),
      );
      const byId = Object.fromEntries(result.checks.map((c) => [c.id, c]));
      expect(result.checks.filter((c) => !c.ok)).toEqual([]);
      expect(result.ok).toBe(true);
      expect(byId.limactl?.detail).toBe(`limactl 2.2.0 at ${lima.path}`);
      expect(byId.vm?.detail).toMatch(/^Running \(the atlas-build Lima VM/);
      expect(byId['vm-tools']?.detail).toMatch(/partclone \d+\.\d+/);
      expect(byId['shared-folder']?.detail).toBe(
        `${shared} is ${guest} in the VM, readable and writable from both sides`,
      );
      expect(byId.macos?.detail).toMatch(/^not macOS \(linux\)/);
      expect(readdirSync(shared)).not.toContain('.atlas-doctor');
    });

    it('the doctor tells when the library is not in the shared folder', async () => {
      const { result } = await runJob((ctx) =>
        runDoctor({ library: localLib, limactl: lima, minFreeBytes: 1e6 }, ctx),
      );
      const check = result.checks.find((c) => c.id === 'shared-folder');
      expect(check?.ok).toBe(false);
      expect(check?.detail).toMatch(/but the library .*local-lib is not in a folder the VM may write to$/);
      expect(check?.next).toEqual([
        { do: 'choose-library', inside: shared },
        { do: 'vm-recreate', instance: VM, library: expect.stringMatching(/local-lib$/) },
      ]);
      expect(cliHint({ hint: check?.fix, next: check?.next })).toMatch(
        /ods-sd vm recreate --library .*local-lib /,
      );
      expect(result.ok).toBe(false);
    });

    it('the doctor reports a stopped VM and skips what needs it', async () => {
      await vmStop(lima);
      try {
        const { result } = await runJob((ctx) => runDoctor({ library: shared, limactl: lima }, ctx));
        const vm = result.checks.find((c) => c.id === 'vm');
        expect(vm).toMatchObject({ ok: false, next: [{ do: 'vm-start' }] });
        expect(result.checks.filter((c) => c.skipped).map((c) => c.id)).toEqual([
          'vm-tools',
          'shared-folder',
        ]);
      } finally {
        await runJob((ctx) => vmStart(lima, ctx));
      }
    });

    it('ods-sd vm doctor --json on this machine, where Lima is not installed, says so honestly', async () => {
      const path = process.env.PATH;
      process.env.PATH = (path ?? '')
        .split(':')
        .filter((p) => p !== DOUBLES)
        .join(':');
      let r;
      try {
        expect(Limactl.find()).toBeUndefined();
        r = await odsSdVm(['doctor', '--json', '--library', shared]);
      } finally {
        process.env.PATH = path;
      }
      expect(r.code).toBe(1);
      expect(r.json).toMatchObject({ ok: false, error: { code: 'checklist-failed' } });
      const byId = Object.fromEntries(r.json.result.checks.map((c: any) => [c.id, c]));
      expect(byId.limactl).toMatchObject({ ok: false });
      expect(byId.limactl.detail).toMatch(
        /^limactl not found \(looked in ATLAS_LIMACTL, PATH, \/opt\/homebrew\/bin\/limactl, \/usr\/local\/bin\/limactl\)$/,
      );
      expect(byId.limactl.fix).toMatch(/not needed on Linux, where the disk tools run on this host itself/);
      expect(byId.macos).toMatchObject({
        ok: true,
        detail: expect.stringMatching(/^not macOS \(linux\): the local builder is used/),
      });
      for (const id of ['vm', 'vm-tools', 'shared-folder']) {
        expect(byId[id]).toMatchObject({
          ok: false,
          skipped: true,
          detail: 'not checked: limactl is not available',
        });
      }
      expect(byId['raw-disk']).toMatchObject({
        ok: true,
        detail: 'running as root: card devices can be opened',
      });
      expect(byId['disk-space'].detail).toMatch(/GB free in /);
      expect(r.stdout).toMatch(/❌ Lima \(limactl\): limactl not found/);
      expect(r.stderr).toMatch(
        /error: \d+ of \d+ checks did not pass\nhint: follow the fix of each failed check/,
      );
    });

    it('ods-sd vm status / stop / start --json: human text, then one JSON line', async () => {
      const status = await odsSdVm(['status', '--library', shared, '--json']);
      expect(status.code).toBe(0);
      expect(status.json).toMatchObject({
        ok: true,
        command: 'vm status',
        result: { state: 'Running', libraryInVm: guest },
      });
      expect(status.stdout).toContain(`shares ${shared} as ${guest} (read-write)`);
      const stop = await odsSdVm(['stop', '--json']);
      expect(stop.json).toMatchObject({ ok: true, result: { state: 'Stopped', stopped: true } });
      const again = await odsSdVm(['stop', '--json']);
      expect(again.json.result.stopped).toBe(false);
      const start = await odsSdVm(['start', '--json', '--library', shared]);
      expect(start.code).toBe(0);
      expect(start.json).toMatchObject({
        ok: true,
        command: 'vm start',
        result: { state: 'Running', started: true },
      });
      expect(start.stderr).toMatch(
        /^==> Boot the VM\n==> Connect over ssh\n==> Provision: install the disk tools\n==> Check the disk tools in the VM\n/m,
      );
    });

    it('ods-sd vm refuses what it does not know, with exit code 2', async () => {
      const unknown = await odsSdVm(['reboot', '--json']);
      expect(unknown.code).toBe(2);
      expect(unknown.json.error).toMatchObject({
        code: 'usage',
        hint: expect.stringMatching(/^usage: ods-sd vm setup/),
      });
      const shell = await odsSdVm(['shell', '--json']);
      expect(shell.code).toBe(2);
      expect(shell.json.error.message).toMatch(/interactive/);
      const flag = await odsSdVm(['status', '--bogus']);
      expect(flag.code).toBe(2);
    });
  });
});
