// A threshold changed in the app goes into the library's own copy of the checklist; the shipped one
// is never written, and verify uses the library's copy when there is one.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadChecklist } from '../../src-main/core/checklist/checklist.js';
import { setCountThreshold, userChecklist } from '../../src-main/core/checklist/thresholds.js';
import { ROOT } from '../helpers/fixtures.js';

const SHIPPED = join(ROOT, 'resources', 'verify-checklist.json');
const lib = mkdtempSync(join(tmpdir(), 'atlas-thresholds-'));
afterAll(() => rmSync(lib, { recursive: true, force: true }));

describe("the library's own checklist", () => {
  it('is made from the shipped one the first time a threshold changes', async () => {
    const before = readFileSync(SHIPPED, 'utf8');
    expect(await userChecklist(lib)).toBeUndefined();
    const file = await setCountThreshold(lib, SHIPPED, 'plymouth-theme', 1);
    expect(file).toBe(join(lib, 'verify-checklist.json'));
    expect(await userChecklist(lib)).toBe(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const mine = await loadChecklist(file);
    const theme = mine.checks.find((c) => c.id === 'plymouth-theme')!;
    expect(theme.rule).toMatchObject({ type: 'count', path: '/usr/share/plymouth/themes/ods', min: 1 });
    expect(mine.checks).toHaveLength(12);
    expect(readFileSync(SHIPPED, 'utf8')).toBe(before);
    // A second change edits the library's copy, keeping the first.
    await setCountThreshold(lib, SHIPPED, 'node-modules', 80);
    const again = await loadChecklist(file);
    expect(again.checks.find((c) => c.id === 'plymouth-theme')!.rule).toMatchObject({ min: 1 });
    expect(again.checks.find((c) => c.id === 'node-modules')!.rule).toMatchObject({ min: 80 });
  });

  it('refuses a check that counts nothing, an unknown check and a bad number', async () => {
    await expect(setCountThreshold(lib, SHIPPED, 'chromium', 1)).rejects.toThrow(/counts nothing/);
    await expect(setCountThreshold(lib, SHIPPED, 'nope', 1)).rejects.toThrow(/no check "nope"/);
    await expect(setCountThreshold(lib, SHIPPED, 'plymouth-theme', -1)).rejects.toThrow(/whole number/);
  });
});
