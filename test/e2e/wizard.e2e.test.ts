// The guided wizard end to end: the real renderer in Debian's Chromium (Playwright), the real
// backend and core (LocalBuilder, as root) behind the test server, generated Armbian-shaped
// images as the base image and as cards. Each wizard step is saved as a screenshot under
// test-output/screenshots.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
  closeSync,
  openSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { CLONE_SET_FILES, copyFixture, fixture, OUTPUT, scratch } from '../helpers/fixtures.js';
import { debugfsCat, sfdiskJson, sha256 } from '../helpers/disk-tools.js';
import { buildBridge, buildRenderer } from './build-assets.js';
import { openAppPage, type AppPage } from './app-page.js';
import { startTestServer, type TestServer } from './server.js';

const BASE_NAME = 'Armbian_26.2.1_Rpi4b_trixie_current_6.18.9_minimal.img';
const SHOTS = join(OUTPUT, 'screenshots');
const LONG = 180_000;

function makePayloadCheckout(dir: string): string {
  const checkout = join(dir, 'src', 'ods-player-os-atlas');
  mkdirSync(join(checkout, 'scripts'), { recursive: true });
  writeFileSync(join(checkout, 'scripts', 'atlas_firstboot.sh'), '#!/bin/bash\necho "provisioning"\n');
  writeFileSync(
    join(checkout, 'scripts', 'atlas-firstboot.service'),
    '[Unit]\nDescription=first boot\n[Service]\nType=oneshot\nExecStart=/usr/local/bin/atlas_firstboot.sh\n[Install]\nWantedBy=multi-user.target\n',
  );
  return checkout;
}

function blankCard(path: string, bytes: number): string {
  closeSync(openSync(path, 'w'));
  truncateSync(path, bytes);
  return path;
}

/** sha256 of the first `bytes` of a file. */
function headSha(path: string, bytes: number): string {
  return execFileSync(
    'bash',
    ['-c', 'head -c "$1" "$2" | sha256sum | cut -d" " -f1', '_', String(bytes), path],
    {
      encoding: 'utf8',
    },
  ).trim();
}

describe('the guided wizard, end to end in Chromium', { timeout: 300_000 }, () => {
  let dir: string;
  let library: string;
  let desktop: string;
  let archive: string;
  let base: string;
  let checkout: string;
  let provisioned: string;
  let bigCard: string;
  let targetCard: string;
  let restoreCard: string;
  let tinyCard: string;
  let server: TestServer;
  let page: Page;
  let problems: string[] = [];

  let app: AppPage;
  const shot = (name: string) => app.shot(name);
  const nav = (label: string) => app.nav(label);
  const job = (title: RegExp): Locator => app.job(title);
  const finished = (panel: Locator, state = 'done') => app.finished(panel, state);

  /** Picks an image file as the card to clone, tags it FEATURE, checks the suggested set name, starts it. */
  const startClone = async (card: string, name: string): Promise<Locator> => {
    server.host.answerFile('card-image', card);
    await page
      .getByRole('group', { name: 'Card to clone' })
      .getByRole('button', { name: 'Use an image file…' })
      .click();
    const file = basename(card);
    await expect
      .poll(() =>
        page
          .getByRole('radio', { name: new RegExp(file.replace(/[.]/g, '\\.')) })
          .first()
          .isChecked(),
      )
      .toBe(true);
    await page.getByLabel('Clone tag').fill('FEATURE');
    await expect.poll(() => page.getByLabel('Clone set name').inputValue()).toBe(name);
    await page.getByRole('button', { name: 'Clone card' }).click();
    return job(new RegExp(`job: Clone ${file.replace(/[.]/g, '\\.')}`));
  };

  beforeAll(async () => {
    dir = scratch('e2e');
    library = join(dir, 'atlas-build');
    desktop = join(dir, 'Desktop');
    archive = join(dir, 'Volumes', 'NVME_VAULT', 'golden-atlas-img');
    for (const d of [
      join(library, 'scripts'),
      desktop,
      join(dir, 'Volumes', 'NVME_VAULT'),
      join(dir, 'cards'),
    ]) {
      mkdirSync(d, { recursive: true });
    }
    // The seed keeps the secrets in ~/atlas-build/scripts/ (never in git).
    writeFileSync(join(library, 'scripts', 'atlas_secrets.conf'), 'ROOT_PASSWORD="e2e-pw"\nWIFI_PSK="x"\n', {
      mode: 0o600,
    });
    checkout = makePayloadCheckout(dir);
    base = copyFixture(fixture('base'), join(dir, 'cards'), BASE_NAME);
    provisioned = copyFixture(fixture('provisioned'), join(dir, 'cards'), 'sd-card-provisioned.img');
    bigCard = copyFixture(
      fixture('provisioned', { rootMiB: 1024, fillMiB: 448 }),
      join(dir, 'cards'),
      'sd-card-big.img',
    );
    targetCard = blankCard(join(dir, 'cards', 'sd-card-blank.img'), 1024 * 1024 * 1024);
    restoreCard = blankCard(join(dir, 'cards', 'sd-card-restore.img'), 1024 * 1024 * 1024);
    tinyCard = blankCard(join(dir, 'cards', 'sd-card-64mb.img'), 64 * 1024 * 1024);
    mkdirSync(SHOTS, { recursive: true });
    writeFileSync(join(dir, 'settings.json'), JSON.stringify({ archiveDir: archive }));

    const [rendererDir, bridge] = await Promise.all([buildRenderer(), buildBridge()]);
    server = await startTestServer({
      rendererDir,
      library,
      stagingDir: desktop,
      settingsFile: join(dir, 'settings.json'),
      secretsTempRoot: join(dir, 'tmp'),
    });
    app = await openAppPage(server, { bridge, shots: SHOTS, files: { [BASE_NAME]: base }, timeout: LONG });
    page = app.page;
    problems = app.problems;
  }, 600_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && page) await shot(`FAILED-${ctx.task.name.split(':')[0]}`);
  });

  afterAll(async () => {
    await app?.close();
    await server?.close();
  });

  it('Home shows the phase lifecycle and an empty library', async () => {
    const lifecycle = page.getByRole('list', { name: 'Phase lifecycle' });
    await expect.poll(() => lifecycle.innerText()).toContain('none yet');
    const stages = await lifecycle.locator('> li h3').allInnerTexts();
    expect(stages).toEqual(['Insert', 'Clone', 'Verify + Shrink', 'Flash']);
    await expect.poll(() => page.locator('.rule').innerText()).toContain('Insert creates Phase 0');
    await shot('01-home');
  });

  it(
    'Insert: a dropped base image is inspected, the payload found, and the golden image built',
    { timeout: 300_000 },
    async () => {
      await nav('Insert P0');
      const before = sha256(base);
      const transfer = await page.evaluateHandle((name) => {
        const dt = new DataTransfer();
        dt.items.add(new File(['not the real bytes: the path is what counts'], name));
        return dt;
      }, BASE_NAME);
      await page.dispatchEvent('[data-testid=drop-zone]', 'dragenter', { dataTransfer: transfer });
      await page.dispatchEvent('[data-testid=drop-zone]', 'drop', { dataTransfer: transfer });
      await expect
        .poll(
          () =>
            page
              .getByTestId('inspection-state')
              .textContent()
              .catch(() => ''),
          { timeout: LONG },
        )
        .toContain('base Armbian image');

      server.host.answerFolder('payload', checkout);
      await page.getByRole('button', { name: 'Choose folder…' }).click();
      const payload = page.getByRole('list', { name: 'Payload files' });
      await expect.poll(() => payload.innerText().catch(() => '')).toContain('atlas-firstboot.service');
      const payloadText = await payload.innerText();
      expect(payloadText).toContain(join(checkout, 'scripts', 'atlas_firstboot.sh'));
      expect(payloadText).toContain('in the library');
      expect(payloadText).toContain('ROOT_PASSWORD');
      expect(payloadText).not.toContain('e2e-pw');

      // Imported once, the secrets are kept encrypted and win over the plain file in the library.
      const downloaded = join(dir, 'Downloads', 'atlas_secrets.conf');
      mkdirSync(join(dir, 'Downloads'), { recursive: true });
      writeFileSync(downloaded, 'ROOT_PASSWORD="imported-pw"\nWIFI_PSK="y"\nAPI_TOKEN="z"\n');
      server.host.answerFile('secrets', downloaded);
      await page.getByRole('button', { name: 'Import secrets…' }).click();
      await expect.poll(() => payload.innerText()).toContain('imported (encrypted)');
      expect(await payload.innerText()).toContain('API_TOKEN');
      const secretsPanel = page.getByTestId('secrets-panel');
      expect(await secretsPanel.innerText()).toContain(downloaded);
      expect(await page.locator('body').innerText()).not.toContain('imported-pw');
      expect(readFileSync(server.vault.file, 'utf8')).not.toContain('imported-pw');
      // On Linux the key is in the keyring: the Mac's Keychain is not named.
      expect(await secretsPanel.innerText()).toContain('keyring');
      expect(await page.locator('body').innerText()).not.toContain('Keychain');

      await page.getByLabel('Version').fill('9.1.7');
      await page.getByLabel('Tag', { exact: true }).fill('ORIGIN');
      await expect
        .poll(() => page.getByTestId('output-name').textContent())
        .toBe('ods-atlas-golden-v9-1-7-ORIGIN.img');
      await shot('02-insert-ready');

      await page.getByRole('button', { name: 'Build golden image' }).click();
      const build = job(/job: Insert: ods-atlas-golden-v9-1-7-ORIGIN.img/);
      await finished(build);
      expect(await build.innerText()).toContain('Golden image (Phase 0) ready');
      await shot('03-insert-done');

      const golden = join(library, 'ods-atlas-golden-v9-1-7-ORIGIN.img');
      expect(existsSync(golden)).toBe(true);
      expect(existsSync(`${golden}.manifest.json`)).toBe(true);
      expect(sha256(base)).toBe(before);
      expect(debugfsCat(golden, '/usr/local/etc/atlas_secrets.conf')).toBe(readFileSync(downloaded, 'utf8'));
      // The decrypted copy lived only while the job ran.
      expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
      await nav('Home');
      await expect
        .poll(() => page.locator('.stage-insert').innerText())
        .toContain('ods-atlas-golden-v9-1-7-ORIGIN.img');
    },
  );

  it('Clone: an image-file card becomes a clone set with the seed files', async () => {
    await nav('Clone / Restore P1');
    const clone = await startClone(provisioned, 'v1-0-0-FEATURE');
    await finished(clone);
    expect(await clone.innerText()).toContain('sdc2-root.partclone.gz');
    await shot('04-clone-done');

    const set = join(library, 'golden-clone-v1-0-0-FEATURE');
    expect(readdirSync(set).sort()).toEqual(CLONE_SET_FILES);
  });

  it('Cancel: a running clone is stopped and nothing half-written is left', async () => {
    await page.locator('.content').evaluate((el) => el.scrollTo(0, 0));
    // The name that follows the newest safety net is suggested.
    const clone = await startClone(bigCard, 'v1-0-1-FEATURE');
    // Wait until partclone reports progress on the root partition (the long step).
    await app.stepRunning(clone, 'root partition');
    // The speed shows once the first second of the step has been measured.
    await expect
      .poll(() => clone.locator('.progress-numbers').innerText())
      .toMatch(/\d+%.*Step \d+ of \d+: .*of.*\/s.*(left|estimating)/s);
    // One progress for the whole job, which announced its steps: those to come are listed.
    expect(await clone.getByRole('progressbar').count()).toBe(1);
    expect((await clone.locator('.job-steps li.pending').allInnerTexts()).join('\n')).toContain(
      'Computing checksums',
    );
    await shot('05-clone-running');
    await clone.getByRole('button', { name: 'Cancel' }).click();
    await finished(clone, 'cancelled');
    expect(await clone.innerText()).toContain('nothing half-written was kept');
    await shot('06-clone-cancelled');

    const names = readdirSync(library);
    expect(names.filter((n) => n.includes('v1-0-1'))).toEqual([]);
    expect(names.filter((n) => n.endsWith('.partial'))).toEqual([]);
    const loops = execFileSync('losetup', ['-j', bigCard], { encoding: 'utf8' }).trim();
    expect(loops).toBe('');
  });

  it('Verify + Shrink: the checklist with evidence, then the clone image', { timeout: 300_000 }, async () => {
    await nav('Verify + Shrink P2');
    const picker = page.getByRole('group', { name: 'Card to verify and shrink' });
    // The image file picked as the card on Clone is a card there only: it is picked here again.
    expect(await picker.getByRole('radio', { name: /sd-card-provisioned\.img/ }).count()).toBe(0);
    server.host.answerFile('card-image', provisioned);
    await picker.getByRole('button', { name: 'Use an image file…' }).click();
    await expect
      .poll(() => picker.getByRole('radio', { name: /sd-card-provisioned\.img/ }).isChecked())
      .toBe(true);
    const verdict = page.locator('.verdict');
    await expect
      .poll(() => verdict.textContent().catch(() => ''), { timeout: LONG })
      .toContain('All required checks passed');
    const checklist = page.getByRole('list', { name: /Phase 1 verification checklist/ });
    expect(await checklist.getByLabel('passed').count()).toBe(12);
    expect(await checklist.innerText()).toContain('Resize service');
    await shot('07-verify');

    await page.getByLabel('Clone image version').fill('9.1.7');
    await page.getByLabel('Clone image tag').fill('FLASH');
    await expect
      .poll(() => page.getByTestId('output-name').textContent())
      .toBe('ods-atlas-clone-v9-1-7-FLASH.img');
    await page.getByRole('button', { name: 'Shrink to image' }).click();
    const shrink = job(/job: Shrink sd-card-provisioned\.img/);
    await finished(shrink);
    expect(await shrink.innerText()).toContain('grows on first boot');
    await shot('08-shrink-done');
    const image = join(library, 'ods-atlas-clone-v9-1-7-FLASH.img');
    expect(statSync(image).size).toBeLessThan(statSync(provisioned).size);
  });

  it(
    'Flash: the safety reasons are shown, and the image is written and verified',
    { timeout: 300_000 },
    async () => {
      await nav('Flash');
      const golden = join(library, 'ods-atlas-golden-v9-1-7-ORIGIN.img');
      await page.getByLabel('Image from the library').selectOption(golden);
      const picker = page.getByRole('group', { name: 'Cards to flash' });
      server.host.answerFile('card-image', targetCard);
      await picker.getByRole('button', { name: 'Use an image file…' }).click();
      server.host.answerFile('card-image', tinyCard);
      await picker.getByRole('button', { name: 'Use an image file…' }).click();
      const checks = page.getByRole('list', { name: 'Safety checks' });
      await expect.poll(() => checks.innerText().catch(() => '')).toContain('sd-card-64mb.img');
      expect(await checks.innerText()).toMatch(/sd-card-64mb\.img[\s\S]*too small/);
      await expect.poll(() => page.getByRole('button', { name: 'Flash 1 card' }).isEnabled()).toBe(true);
      await shot('09-flash-checks');

      // The refused card is not left ticked.
      expect(await picker.getByRole('checkbox', { name: /sd-card-64mb\.img/ }).isChecked()).toBe(false);

      await page.getByRole('button', { name: 'Flash 1 card' }).click();
      const dialog = page.getByRole('dialog');
      expect(await dialog.getByRole('list', { name: 'Cards to be erased' }).innerText()).toMatch(
        /sd-card-blank\.img \(1\.1 GB\)\s+\S*sd-card-blank\.img/,
      );
      await dialog.getByRole('button', { name: 'Erase and flash' }).click();
      const flash = job(/job: Flash ods-atlas-golden-v9-1-7-ORIGIN\.img to sd-card-blank\.img/);
      await finished(flash);
      // The finish screen: the card's result, and what next.
      const finish = page.getByRole('region', { name: /flashed to 1 of 1 card/ });
      expect(await finish.innerText()).toContain('Written and verified');
      expect(await finish.innerText()).toContain('An image file: nothing to eject');
      await shot('10-flash-done');
      expect(headSha(targetCard, statSync(golden).size)).toBe(sha256(golden));
      expect(statSync(tinyCard).blocks).toBe(0);
      await finish.getByRole('button', { name: 'Flash another' }).click();
      expect(await page.getByLabel('Image from the library').inputValue()).toBe(golden);
      expect(await picker.getByRole('checkbox', { checked: true }).count()).toBe(0);
    },
  );

  it('Restore: a clone set onto a card', async () => {
    await nav('Clone / Restore P1');
    await page.getByLabel('Clone set to restore').selectOption('golden-clone-v1-0-0-FEATURE');
    server.host.answerFile('card-image', restoreCard);
    await page
      .getByRole('group', { name: 'Card to restore onto' })
      .getByRole('button', { name: 'Use an image file…' })
      .click();
    await page.getByRole('button', { name: 'Restore', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Erase and restore' }).click();
    const restore = job(/job: Restore golden-clone-v1-0-0-FEATURE to sd-card-restore\.img/);
    await finished(restore);
    const finish = page.getByRole('region', { name: /golden-clone-v1-0-0-FEATURE restored/ });
    expect(await finish.innerText()).toContain('grown to');
    await shot('11-restore-done');
    await finish.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => page.locator('.screen-header h1').innerText()).toBe('ODS Atlas image lifecycle');
    const root = sfdiskJson(restoreCard).partitions[1]!;
    expect((root.start + root.size) * 512).toBeGreaterThan(0.9 * 1024 * 1024 * 1024);
  });

  it(
    'Library: all three phases; stage, archive with checksums, delete after confirmation',
    { timeout: 300_000 },
    async () => {
      await nav('Library');
      const rows = page.locator('table.library tbody tr');
      await expect.poll(() => rows.count()).toBe(3);
      expect(await rows.locator('.phase-badge').allInnerTexts()).toEqual(['P0', 'P1', 'P2']);
      await shot('12-library');

      const goldenRow = rows.filter({ hasText: 'ods-atlas-golden-v9-1-7-ORIGIN.img' });
      await goldenRow.getByRole('button', { name: 'Stage' }).click();
      await finished(job(/job: Stage ods-atlas-golden/));
      await expect.poll(() => goldenRow.innerText()).toContain('staged');
      expect(sha256(join(desktop, 'ods-atlas-golden-v9-1-7-ORIGIN.img'))).toBe(
        sha256(join(library, 'ods-atlas-golden-v9-1-7-ORIGIN.img')),
      );

      const setRow = rows.filter({ hasText: 'golden-clone-v1-0-0-FEATURE' });
      await setRow.getByRole('button', { name: 'Archive' }).click();
      const archived = job(/job: Archive golden-clone-v1-0-0-FEATURE/);
      await finished(archived);
      expect(await archived.innerText()).toContain('Copied and verified');
      await expect.poll(() => setRow.innerText()).toContain('archived');
      for (const f of readdirSync(join(library, 'golden-clone-v1-0-0-FEATURE'))) {
        expect(sha256(join(archive, 'golden-clone-v1-0-0-FEATURE', f))).toBe(
          sha256(join(library, 'golden-clone-v1-0-0-FEATURE', f)),
        );
      }

      const imageRow = rows.filter({ hasText: 'ods-atlas-clone-v9-1-7-FLASH.img' });
      await imageRow.getByRole('button', { name: 'Delete' }).click();
      const dialog = page.getByRole('dialog');
      expect(await dialog.innerText()).toContain('cannot be undone');
      await shot('13-library-delete');
      await dialog.getByRole('button', { name: 'Delete' }).click();
      await expect.poll(() => rows.count()).toBe(2);
      expect(existsSync(join(library, 'ods-atlas-clone-v9-1-7-FLASH.img'))).toBe(false);
      await shot('14-library-after');
    },
  );

  it('Build VM: no VM on a Linux host; the doctor checks the tools; the terminal runs a shell', async () => {
    await nav('Build VM');
    await expect
      .poll(() =>
        page
          .locator('.vm-status')
          .innerText()
          .catch(() => ''),
      )
      .toContain('no VM is needed');
    await page.getByRole('button', { name: 'Run the doctor' }).click();
    const findings = page.getByRole('list', { name: 'Doctor findings' });
    await expect.poll(() => findings.innerText().catch(() => '')).toContain('partclone');
    await page.getByRole('button', { name: 'Open terminal' }).click();
    const terminal = page.getByTestId('terminal');
    await expect.poll(() => page.locator('.terminal-bar').innerText()).toContain('this Linux host');
    // Type once the shell is ready: its prompt ends with # (root) or $.
    await expect.poll(() => terminal.innerText(), { timeout: 20_000 }).toMatch(/[#$]\s*$/m);
    await terminal.click();
    await page.keyboard.type('echo atlas-$((6*7))\n');
    await expect.poll(() => terminal.innerText(), { timeout: 20_000 }).toContain('atlas-42');
    await shot('15-vm');
  });

  it('Home afterwards shows what the library holds at each phase, and the recent jobs', async () => {
    await nav('Home');
    await expect
      .poll(() => page.locator('.stage-clone').innerText())
      .toContain('golden-clone-v1-0-0-FEATURE');
    expect(await page.locator('.stage-insert').innerText()).toContain('1 in the library');
    expect(await page.locator('.stage-shrink').innerText()).toContain('none yet');
    expect(await page.locator('.recent-jobs').innerText()).toMatch(
      /done\s+Archive golden-clone-v1-0-0-FEATURE/i,
    );
    await shot('16-home-after');
  });

  it('a recent job opens again on Home with its steps, log and result', async () => {
    await nav('Home');
    const recent = page
      .locator('.recent-jobs')
      .getByRole('button', { name: /Archive golden-clone-v1-0-0-FEATURE/ });
    await recent.click();
    const panel = job(/job: Archive golden-clone-v1-0-0-FEATURE/);
    expect(await panel.getByRole('list', { name: 'Steps' }).count()).toBe(1);
    expect(await panel.innerText()).toContain('Archived to');
    await recent.click();
  });

  it('a narrow window (1024 × 700): Home and the Library fit, nothing is cut off on the right', async () => {
    await page.setViewportSize({ width: 1024, height: 700 });
    try {
      const fits = () => page.locator('.content').evaluate((el) => el.scrollWidth <= el.clientWidth);
      const rightEdges = (buttons: Locator) =>
        buttons.evaluateAll((els) => els.map((el) => Math.round(el.getBoundingClientRect().right)));
      await nav('Home');
      await expect.poll(fits).toBe(true);
      for (const right of await rightEdges(page.locator('.lifecycle button')))
        expect(right).toBeLessThanOrEqual(1024);
      await page.screenshot({ path: join(SHOTS, '17-home-narrow.png') });
      await nav('Library');
      await expect.poll(() => page.locator('table.library tbody tr').count()).toBeGreaterThan(0);
      expect(await fits()).toBe(true);
      const edges = await rightEdges(page.locator('table.library button'));
      expect(edges.length).toBeGreaterThan(0);
      for (const right of edges) expect(right).toBeLessThanOrEqual(1024);
      await page.screenshot({ path: join(SHOTS, '18-library-narrow.png') });
    } finally {
      await page.setViewportSize({ width: 1360, height: 900 });
    }
  });

  it('keyboard only: the confirmation keeps the focus, Escape cancels, focus comes back', async () => {
    await nav('Library');
    const del = page.locator('table.library').getByRole('button', { name: 'Delete' }).first();
    const focused = (l: Locator) => l.evaluate((el) => el === document.activeElement);
    await page.locator('body').focus();
    for (let i = 0; i < 120 && !(await focused(del)); i++) await page.keyboard.press('Tab');
    expect(await focused(del)).toBe(true);
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    const cancel = dialog.getByRole('button', { name: 'Cancel' });
    const confirm = dialog.getByRole('button', { name: 'Delete' });
    await expect.poll(() => focused(cancel)).toBe(true);
    await page.keyboard.press('Tab');
    expect(await focused(confirm)).toBe(true);
    await shot('20-keyboard-confirm');
    await page.keyboard.press('Tab');
    expect(await focused(cancel)).toBe(true);
    await page.keyboard.press('Shift+Tab');
    expect(await focused(confirm)).toBe(true);
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.count()).toBe(0);
    expect(await focused(del)).toBe(true);
    expect(await page.locator('table.library tbody tr').count()).toBe(2);
  });

  it('the dark theme follows the system', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    try {
      await nav('Home');
      const panel = page.locator('.panel').first();
      await expect
        .poll(() => panel.evaluate((el) => getComputedStyle(el).backgroundColor))
        .toBe('rgb(23, 33, 51)');
      await shot('19-home-dark');
      await nav('Flash');
      await shot('21-flash-dark');
    } finally {
      await page.emulateMedia({ colorScheme: 'light' });
    }
  });

  it('the renderer logged no errors and no CSP violations', () => {
    expect(problems).toEqual([]);
  });
});
