// A failed count (their firstboot today installs a Plymouth theme of one file) says why: which
// folder, how many files, what the checklist expects; and what to do, in the CLI's and the app's words.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluate, parseChecklist, probesFor, type Fact } from '../../src-main/core/checklist/checklist.js';
import { checklistFailed } from '../../src-main/core/phases/checklist-failed.js';
import { shortfallText } from '../../src-main/common/check-shortfall.js';
import { cliHint } from '../../src-main/cli/next-steps.js';
import { verifyText } from '../../src-main/cli/commands/verify-text.js';
import type { VerifyReport } from '../../src-main/common/results.js';
import { ROOT } from '../helpers/fixtures.js';

const FILE = join(ROOT, 'resources', 'verify-checklist.json');
const shipped = parseChecklist(JSON.parse(readFileSync(FILE, 'utf8')));
const THEME = '/usr/share/plymouth/themes/ods';

function reportWithTheme(count: number): VerifyReport {
  const probes = probesFor(shipped.checks);
  const facts = new Map<string, Fact>(
    probes.map((p) => [p.id, { exists: true, count: 200, content: '2', type: 'file' }]),
  );
  facts.set(probes.find((p) => p.path === THEME)!.id, { exists: true, type: 'dir', count });
  const checks = evaluate(shipped, probes, facts).filter(
    (c) => c.id === 'plymouth-theme' || c.id === 'phase',
  );
  const failed = checks.filter((c) => !c.ok).length;
  return {
    card: 'card.img',
    title: shipped.title,
    checklistFile: FILE,
    ok: failed === 0,
    failed,
    warnings: 0,
    checks,
  };
}

describe('a failed count in the checklist', () => {
  it('carries the folder, what was counted, how many, and the bounds', () => {
    const theme = reportWithTheme(1).checks.find((c) => c.id === 'plymouth-theme')!;
    expect(theme.ok).toBe(false);
    expect(theme.shortfall).toEqual({
      path: THEME,
      counted: 'files',
      recursive: true,
      found: 1,
      missing: false,
      min: 138,
    });
    expect(shortfallText(theme.shortfall!)).toBe(
      `${THEME} holds 1 file (subfolders included); the checklist expects at least 138`,
    );
    expect(reportWithTheme(138).checks.find((c) => c.id === 'plymouth-theme')!.shortfall).toBeUndefined();
  });

  it('a missing folder and a pattern are said as such', () => {
    expect(
      shortfallText({ path: '/x', counted: 'entries', recursive: false, found: 0, missing: true, min: 2 }),
    ).toBe('/x is not in the card; the checklist expects at least 2');
    expect(
      shortfallText({
        path: '/etc/systemd/system',
        counted: 'entries',
        pattern: 'ods-*',
        recursive: false,
        found: 3,
        missing: false,
        min: 12,
      }),
    ).toBe('/etc/systemd/system holds 3 entries named ods-*; the checklist expects at least 12');
  });

  it('the failure names it, and the CLI says: --force, or lower the threshold in a copy of the checklist', () => {
    const e = checklistFailed(reportWithTheme(1), 'not shrinking');
    expect(e.code).toBe('checklist-failed');
    expect(e.message).toBe(
      `the Phase 1 checklist failed (Plymouth theme: ${THEME} holds 1 file (subfolders included); the checklist expects at least 138): not shrinking`,
    );
    expect(e.next).toEqual([
      { do: 'show-checklist' },
      { do: 'force' },
      { do: 'edit-checklist', check: 'plymouth-theme', file: FILE },
    ]);
    const hint = cliHint(e)!;
    expect(hint).toContain('or pass --force to shrink anyway');
    expect(hint).toContain(
      `lower the threshold of check "plymouth-theme": copy ${FILE}, change its "min", and pass --checklist FILE`,
    );
  });

  it('verify prints why under the table', () => {
    const text = verifyText(reportWithTheme(1));
    expect(text).toContain(
      `  Plymouth theme: ${THEME} holds 1 file (subfolders included); the checklist expects at least 138 (check "plymouth-theme" in ${FILE}).`,
    );
    expect(text).toContain('shrink with --force');
  });
});
