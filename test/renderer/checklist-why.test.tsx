// @vitest-environment jsdom
// A failed count on the Verify + Shrink screen says why (the folder, how many files, what the
// checklist expects, in which file) and what to do, as the CLI does.
import { act, fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ChecklistView } from '../../src-renderer/components/checklist-view';
import type { VerifyReportDto } from '../../src-main/common/contract';

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

describe('Change the threshold', () => {
  it('saves the new least number for that check', async () => {
    const saved: Array<[string, number]> = [];
    render(
      <ChecklistView
        report={REPORT}
        onThreshold={async (id, min) => {
          saved.push([id, min]);
        }}
      />,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Change the threshold' }));
    const input = screen.getByLabelText('Plymouth theme: the least number expected') as HTMLInputElement;
    expect(input.value).toBe('1');
    fireEvent.change(input, { target: { value: '' } });
    const save = screen.getByRole('button', { name: 'Save and verify again' }) as HTMLButtonElement;
    expect(save.disabled).toBe(true);
    fireEvent.change(input, { target: { value: '1' } });
    await act(async () => fireEvent.click(save));
    expect(saved).toEqual([['plymouth-theme', 1]]);
  });
});
