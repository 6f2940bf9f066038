// The app's Mac mode end to end: the real renderer in Debian's Chromium (Playwright) on the app's
// own services as Electron main wires them on a Mac (createAppBackend with the Lima builder). The
// atlas-build VM is the limactl test double, the cards are loop devices the "VM" cannot see (so
// every card read and write goes through the raw-disk helper and a staged copy in the library).
// Each state is saved as test-output/screenshots/mac-*.png (the docs keep copies in docs/screenshots).
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { CLONE_SET_FILES, copyFixture, fixture, OUTPUT, ROOT, scratch } from '../helpers/fixtures.js';
import { ensureHelperBundle } from '../helpers/helper-bundle.js';
import {
  attachAsDevice,
  bootChecksums,
  detach,
  e2fsckClean,
  rootChecksums,
  sfdiskJson,
  sha256,
} from '../helpers/disk-tools.js';
import { identifyCandidate, protectedPlaces } from '../../src-main/app/card-checks.js';
import { buildBridge, buildRenderer } from './build-assets.js';
import { openAppPage, type AppPage } from './app-page.js';
import { startTestServer, type TestServer } from './server.js';
import { macosPath, onTestBox } from '../helpers/macos-path.js';

const SHOTS = join(OUTPUT, 'screenshots');
const LIMACTL = join(ROOT, 'test', 'doubles', 'bin', 'limactl');
const LONG = 180_000;
const MiB = 1024 * 1024;
const ENV_KEYS = [
  'ATLAS_LIMACTL',
  'LIMA_HOME',
  'ATLAS_LIMA_DOUBLE_HIDE',
  'ATLAS_LIMA_DOUBLE_START_HOLD',
  'ATLAS_LIMA_DOUBLE_FAIL',
] as const;

/** Every path under `dir`, relative to it (what "nothing was left behind" is checked against). */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((d) => relative(dir, join(d.parentPath, d.name)))
    .sort();
}

/** Loop devices whose backing file is inside `dir`. */
function loopsOn(dir: string): string[] {
  const out = onTestBox(() =>
    execFileSync('losetup', ['--list', '--json', '--output', 'NAME,BACK-FILE'], { encoding: 'utf8' }),
  );
  const list = out.trim()
    ? (JSON.parse(out) as { loopdevices: Array<Record<string, string>> }).loopdevices
    : [];
  return list.filter((l) => (l['back-file'] ?? '').startsWith(`${dir}/`)).map((l) => l.name!);
}

describe("the app's Mac mode, end to end in Chromium", { timeout: 300_000 }, () => {
  const saved: Partial<Record<(typeof ENV_KEYS)[number], string>> = {};
  let savedPath: string | undefined;
  const attached: string[] = [];
  let dir: string;
  let library: string;
  let limaHome: string;
  let hold: string;
  let source: string;
  let sourceFile: string;
  let target: string;
  let big: string;
  let server: TestServer;
  let page: Page;
  let setName: string;
  let problems: string[] = [];

  let app: AppPage;
  const shot = (name: string) => app.shot(name);
  const nav = (label: string) => app.nav(label);
  const job = (title: RegExp): Locator => app.job(title);
  const finished = (panel: Locator, state = 'done') => app.finished(panel, state);
  const chip = () =>
    page
      .locator('.vm-status .chip')
      .innerText()
      .catch(() => '');
  const steps = (panel: Locator) =>
    panel
      .getByRole('list', { name: 'Steps' })
      .locator('> li')
      .evaluateAll((lis) => lis.map((li) => li.className));
  const pickCard = (group: string, device: string) =>
    page
      .getByRole('group', { name: group })
      .getByRole('radio', { name: new RegExp(`${device}\\b`) })
      .check();
  /** Whether a builder script runs in the double's "VM" (its processes are this box's). */
  const guestScriptRunning = (script: string): boolean =>
    readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .some((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
            .split('\0')
            .some((a) => a.endsWith(`/${script}`));
        } catch {
          return false;
        }
      });
  const limactl = (...args: string[]) => execFileSync(LIMACTL, args, { encoding: 'utf8', stdio: 'pipe' });

  beforeAll(async () => {
    for (const k of ENV_KEYS) if (process.env[k] !== undefined) saved[k] = process.env[k];
    ensureHelperBundle(); // the raw-disk helper runs from dist/
    dir = scratch('e2e-mac');
    library = join(dir, 'atlas-build');
    const cards = join(dir, 'cards');
    mkdirSync(cards, { recursive: true });
    mkdirSync(join(dir, 'Desktop'), { recursive: true });
    mkdirSync(SHOTS, { recursive: true });
    limaHome = mkdtempSync('/tmp/alh-');
    hold = join(dir, 'provisioned');
    // The app finds limactl through ATLAS_LIMACTL, as on a Mac without Homebrew on the PATH.
    process.env.ATLAS_LIMACTL = LIMACTL;
    process.env.LIMA_HOME = limaHome;
    // The "VM" sees neither the card images behind the loop devices nor the scripts in the repo.
    process.env.ATLAS_LIMA_DOUBLE_HIDE = [
      cards,
      join(ROOT, 'lima', 'scripts'),
      join(OUTPUT, 'fixtures'),
    ].join(':');
    process.env.ATLAS_LIMA_DOUBLE_START_HOLD = hold;
    delete process.env.ATLAS_LIMA_DOUBLE_FAIL;

    sourceFile = copyFixture(fixture('provisioned'), cards, 'reader-a.img');
    source = attachAsDevice(sourceFile);
    const blank = join(cards, 'reader-b.img');
    writeFileSync(blank, '');
    truncateSync(blank, 1024 * MiB);
    target = attachAsDevice(blank);
    big = attachAsDevice(
      copyFixture(fixture('provisioned', { rootMiB: 1024, fillMiB: 448 }), cards, 'reader-c.img'),
    );
    attached.push(source, target, big);
    writeFileSync(
      join(dir, 'settings.json'),
      JSON.stringify({ archiveDir: join(dir, 'Volumes', 'NVME_VAULT') }),
    );

    const [rendererDir, bridge] = await Promise.all([buildRenderer(), buildBridge()]);
    const places = protectedPlaces({
      library,
      stagingDir: join(dir, 'Desktop'),
      archiveDir: join(dir, 'Volumes', 'NVME_VAULT'),
    });
    server = await startTestServer({
      mode: 'mac',
      rendererDir,
      library,
      stagingDir: join(dir, 'Desktop'),
      settingsFile: join(dir, 'settings.json'),
      secretsTempRoot: join(dir, 'tmp'),
      // drivelist does not list loop devices: the readers are these, identified as a picked card is.
      listCards: () => Promise.all([source, target, big].map((d) => identifyCandidate(d, places))),
    });
    app = await openAppPage(server, { bridge, shots: SHOTS, files: {}, timeout: LONG });
    page = app.page;
    problems = app.problems;
    // From here the app's side runs with a stock Mac's PATH (the browser is started already); the
    // test's own checks go through onTestBox.
    savedPath = process.env.PATH;
    process.env.PATH = macosPath();
  }, 600_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && page) await shot(`FAILED-mac-${ctx.task.name.split(':')[0]}`);
  });

  afterAll(async () => {
    if (savedPath !== undefined) process.env.PATH = savedPath;
    await app?.close();
    await server?.close();
    try {
      limactl('delete', '--force', '--tty=false', 'atlas-build');
    } catch {
      // never created
    }
    for (const d of attached) detach(d);
    for (const k of ENV_KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    rmSync(limaHome, { recursive: true, force: true });
  });

  it('VM missing: one click sets it up, step by step with progress, and it runs', async () => {
    expect(server.env.builder.kind).toBe('lima');
    await nav('Build VM');
    await expect.poll(chip).toBe('not set up');
    expect(await page.locator('.vm-status').innerText()).toContain('atlas-build: not set up yet');
    await shot('mac-vm-missing');

    await page.getByRole('button', { name: 'Set up the VM' }).click();
    const setup = job(/job: Set up the atlas-build VM/);
    // The double holds the start at the template's readiness probe until the test lets it go.
    await expect
      .poll(() => steps(setup), { timeout: LONG })
      .toEqual(['done', 'done', 'done', 'done', 'current', 'pending']);
    const list = await setup.getByRole('list', { name: 'Steps' }).innerText();
    expect(list).toMatch(
      /Create the VM[\s\S]*Download the Debian image[\s\S]*Boot the VM[\s\S]*Connect over ssh[\s\S]*Provision: install the disk tools[\s\S]*Check the disk tools in the VM/,
    );
    expect(await setup.locator('li.current .step-detail').innerText()).toContain(
      'Waiting for the optional requirement 1 of 1: "Atlas builder tools installed"',
    );
    expect(
      await setup.getByRole('progressbar', { name: 'Overall progress' }).getAttribute('aria-valuenow'),
    ).toBe('66');
    expect(await setup.locator('.job-progress').innerText()).toContain('Step 5 of 6');
    await shot('mac-vm-setup-running');

    writeFileSync(hold, '');
    await finished(setup);
    expect(await steps(setup)).toEqual(['done', 'done', 'done', 'done', 'done', 'done']);
    await expect.poll(chip).toBe('running');
    expect(await page.locator('.vm-status').innerText()).toContain(
      'the library is /mnt/atlas-work in the VM',
    );
    await shot('mac-vm-running');
    // Lima's own record: the instance shares the library read-write.
    const instance = JSON.parse(limactl('list', '--json', 'atlas-build')) as {
      status: string;
      config: { mounts: Array<{ location: string; writable: boolean }> };
    };
    expect(instance.status).toBe('Running');
    expect(instance.config.mounts).toContainEqual(
      expect.objectContaining({ location: library, writable: true }),
    );
  });

  it('stopped: Start brings it back, without downloading again', async () => {
    await page.getByRole('button', { name: 'Stop' }).click();
    await finished(job(/job: Stop the atlas-build VM/));
    await expect.poll(chip).toBe('stopped');
    await shot('mac-vm-stopped');
    await page.getByRole('button', { name: 'Start' }).click();
    const start = job(/job: Start the atlas-build VM/);
    await finished(start);
    expect(await start.getByRole('list', { name: 'Steps' }).innerText()).not.toContain('Download');
    expect(await steps(start)).toEqual(['done', 'done', 'done', 'done']);
    await expect.poll(chip).toBe('running');
    await shot('mac-vm-started');
  });

  it("broken: the start fails with Lima's reason, the doctor offers the fix, one click repairs it", async () => {
    await page.getByRole('button', { name: 'Stop' }).click();
    await finished(job(/job: Stop the atlas-build VM/));
    process.env.ATLAS_LIMA_DOUBLE_FAIL = 'start-fatal';
    try {
      await page.getByRole('button', { name: 'Run the doctor' }).click();
      await expect.poll(chip).toBe('stopped');
      await page.getByRole('button', { name: 'Start' }).click();
      const failed = job(/job: Start the atlas-build VM/);
      await finished(failed, 'failed');
      expect(await failed.getByRole('alert').innerText()).toContain(
        'the atlas-build VM did not start: failed to start the VM: Error Domain=VZErrorDomain',
      );
    } finally {
      delete process.env.ATLAS_LIMA_DOUBLE_FAIL;
    }
    await expect.poll(chip).toBe('broken');
    const findings = page.getByRole('list', { name: 'Doctor findings' });
    await expect.poll(() => findings.innerText().catch(() => ''), { timeout: LONG }).toContain('Broken');
    const fix = findings.getByRole('button', { name: 'Fix: start the VM' });
    expect(await fix.count()).toBe(1);
    expect(await findings.innerText()).toContain('host agent process has exited');
    await shot('mac-vm-broken');

    // The repair is a new Start job in the panel that shows the failed one: wait for it to replace it.
    const failedId = await job(/job: Start the atlas-build VM/).getAttribute('data-job-id');
    await fix.click();
    const repair = job(/job: Start the atlas-build VM/);
    await expect.poll(() => repair.getAttribute('data-job-id'), { timeout: LONG }).not.toBe(failedId);
    await finished(repair);
    expect(await repair.textContent()).toContain('is broken: stopping it forcibly (limactl stop -f)');
    await expect.poll(chip).toBe('running');
    await expect
      .poll(() => findings.innerText(), { timeout: LONG })
      .toMatch(/the atlas-build VM: Running[\s\S]*disk tools in the VM: partclone/);
    expect(await findings.getByRole('button').count()).toBe(0);
    await shot('mac-vm-repaired');
  });

  it('clone: a card the VM cannot see is read through the helper into a staged copy', async () => {
    await nav('Clone / Restore P1');
    await pickCard('Card to clone', source);
    await page.getByLabel('Clone tag').fill('MAC');
    await expect.poll(() => page.getByLabel('Clone set name').inputValue()).toMatch(/-MAC$/);
    setName = await page.getByLabel('Clone set name').inputValue();
    await page.getByRole('button', { name: 'Clone card' }).click();
    const clone = job(new RegExp(`job: Clone ${source.slice(5)} to`));
    await finished(clone);
    await shot('mac-clone-done');

    const set = join(library, `golden-clone-${setName}`);
    expect(readdirSync(set).sort()).toEqual(CLONE_SET_FILES);
    const manifest = JSON.parse(readFileSync(join(set, 'manifest.json'), 'utf8')) as {
      notes: string[];
      files: Array<{ name: string; sha256: string }>;
    };
    expect(manifest.notes.join(' ')).toMatch(/used blocks only/);
    for (const f of manifest.files) expect(onTestBox(() => sha256(join(set, f.name)))).toBe(f.sha256);
    expect(loopsOn(library)).toEqual([]);
  });

  it('restore: the VM builds the card image, the helper writes it onto the card', async () => {
    await page.getByLabel('Clone set to restore').selectOption(`golden-clone-${setName}`);
    await pickCard('Card to restore onto', target);
    await page.getByRole('button', { name: 'Restore', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Erase and restore' }).click();
    const restore = job(new RegExp(`job: Restore golden-clone-${setName} to ${target.slice(5)}`));
    await finished(restore);
    const finish = page.getByRole('region', { name: new RegExp(`golden-clone-${setName} restored`) });
    expect(await finish.innerText()).toContain('grown to');
    // The card of the reader, by its model and size, and that it was ejected (or why not).
    expect(await finish.innerText()).toMatch(/ejected|Not ejected/i);
    await shot('mac-restore-done');

    const root = onTestBox(() => sfdiskJson(target)).partitions[1]!;
    expect((root.start + root.size) * 512).toBe(1024 * MiB);
    expect(onTestBox(() => e2fsckClean(target).code)).toBe(0);
    expect(onTestBox(() => rootChecksums(target))).toEqual(onTestBox(() => rootChecksums(sourceFile)));
    expect(onTestBox(() => bootChecksums(target, true))).toEqual(onTestBox(() => bootChecksums(sourceFile)));
  });

  it('the VM stopped in the middle of a clone: a clear error, and nothing half-written left', async () => {
    const before = tree(library);
    await page.locator('.content').evaluate((el) => el.scrollTo(0, 0));
    await pickCard('Card to clone', big);
    await page.getByLabel('Clone tag').fill('STOP');
    const name = await page.getByLabel('Clone set name').inputValue();
    await page.getByRole('button', { name: 'Clone card' }).click();
    const clone = job(new RegExp(`job: Clone ${big.slice(5)} to`));
    // Wait until the root partition is being cloned, its image going into clone_card.sh in the VM
    // (the limactl double runs the guest's processes here), then power the VM off.
    await app.stepRunning(clone, 'root partition');
    await shot('mac-clone-running');
    // The stop follows the script's start at once: nothing between them for the clone to end in.
    await expect
      .poll(() => guestScriptRunning('clone_card.sh'), { timeout: 60_000, interval: 100 })
      .toBe(true);
    limactl('stop', '--tty=false', 'atlas-build');
    await finished(clone, 'failed');
    const error = await clone.getByRole('alert').innerText();
    expect(error).toContain(
      'the atlas-build VM stopped while clone_card.sh was running in it (it is Stopped now)',
    );
    expect(error).toContain('run the job again once the VM runs');
    expect(error).toContain('Start the VM on the Build VM screen (a broken VM is stopped first).');
    await shot('mac-clone-vm-stopped');

    // No set, no .partial, no staged card copy, no loop device of the "VM" left behind.
    expect(existsSync(join(library, `golden-clone-${name}`))).toBe(false);
    expect(tree(library)).toEqual(before);
    expect(loopsOn(library)).toEqual([]);
    await nav('Build VM');
    await expect.poll(chip).toBe('stopped');
  });

  it('the renderer logged no errors and no CSP violations', () => {
    expect(problems).toEqual([]);
  });
});
