// @vitest-environment jsdom
// A failed count on the Verify + Shrink screen says why (the folder, how many files, what the
// checklist expects, in which file) and what to do, as the CLI does.
import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ChecklistView } from '../../src-renderer/components/checklist-view';
import type { VerifyReportDto } from '../../src-main/ipc/contract';

const REPORT: VerifyReportDto = {
  card: '/dev/disk4',
  title: 'Phase 1 verification checklist',
  checklistFile: '/Applications/Atlas Imager.app/Contents/Resources/verify-checklist.json',
  ok: false,
  failed: 1,
  warnings: 0,
  checks: [
    {
      id: 'plymouth-theme',
      label: 'Plymouth theme',
      ok: false,
      severity: 'error',
      expected: '138 files',
      evidence: ['1 * in /usr/share/plymouth/themes/ods (at least 138)'],
      shortfall: {
        path: '/usr/share/plymouth/themes/ods',
        counted: 'files',
        recursive: true,
        found: 1,
        missing: false,
        min: 138,
      },
    },
  ],
};

describe('ChecklistView', () => {
  it('says why a count failed and what to do', () => {
    render(<ChecklistView report={REPORT} />);
    const list = screen.getByRole('list', { name: REPORT.title });
    expect(list.textContent).toContain(
      '/usr/share/plymouth/themes/ods holds 1 file (subfolders included); the checklist expects at least 138 (check “plymouth-theme” in /Applications/Atlas Imager.app/Contents/Resources/verify-checklist.json).',
    );
    expect(list.textContent).toContain('tick “Shrink anyway”');
  });
});
