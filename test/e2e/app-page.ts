// The app in Debian's Chromium for the end-to-end tests: one page on the test server, with the
// page's console errors and warnings collected, and the helpers every test uses (full-page
// screenshots, the navigation, a job's panel, its running step and its end).
import { join } from 'node:path';
import { expect } from 'vitest';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import type { TestServer } from './server.js';

const VIEWPORT = { width: 1360, height: 900 };

export interface AppPage {
  browser: Browser;
  page: Page;
  /** Console errors and warnings, and uncaught page errors. */
  problems: string[];
  /** The whole screen, the window made as tall as the scrolled content: SHOTS/NAME.png. */
  shot(name: string): Promise<void>;
  nav(label: string): Promise<void>;
  /** The panel of the newest job whose title matches. */
  job(title: RegExp): Locator;
  /** Waits until the job ends, then expects it to have ended in `state`. */
  finished(panel: Locator, state?: string): Promise<void>;
  /** Waits until the job's current step is the one whose label contains `step`, with progress. */
  stepRunning(panel: Locator, step: string): Promise<void>;
  close(): Promise<void>;
}

export async function openAppPage(
  server: TestServer,
  opts: { bridge: string; shots: string; files?: Record<string, string>; timeout: number },
): Promise<AppPage> {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = await browser.newPage({ viewport: VIEWPORT });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.addInitScript({
    content: `window.__ATLAS_E2E__ = ${JSON.stringify({ token: server.token, files: opts.files ?? {} })};\n${opts.bridge}`,
  });
  await page.goto(server.url);
  return {
    browser,
    page,
    problems,
    shot: async (name) => {
      const height = await page.locator('.content').evaluate((el) => el.scrollHeight);
      await page.setViewportSize({ width: VIEWPORT.width, height: Math.max(VIEWPORT.height, height) });
      await page.screenshot({ path: join(opts.shots, `${name}.png`) });
      await page.setViewportSize(VIEWPORT);
    },
    nav: (label) => page.getByRole('navigation').getByRole('button', { name: label }).click(),
    job: (title) => page.getByRole('region', { name: title }).last(),
    finished: async (panel, state = 'done') => {
      await expect
        .poll(async () => panel.getAttribute('data-job-state'), { timeout: opts.timeout, interval: 250 })
        .not.toBe('running');
      expect(await panel.getAttribute('data-job-state'), await panel.innerText()).toBe(state);
    },
    stepRunning: async (panel, step) => {
      const progress = async () => {
        const current = await panel
          .locator('.job-steps li.current')
          .innerText()
          .catch(() => '');
        const pct = await panel
          .getByRole('progressbar')
          .getAttribute('aria-valuenow', { timeout: 100 })
          .catch(() => null);
        return current.includes(step) ? Number(pct ?? 0) : 0;
      };
      await expect.poll(progress, { timeout: opts.timeout, interval: 100 }).toBeGreaterThan(0);
    },
    close: () => browser.close(),
  };
}
