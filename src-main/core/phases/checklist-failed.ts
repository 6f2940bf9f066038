/**
 * The error of a failed checklist, worded so the user sees why: each failed check, and for a count
 * (the Plymouth theme's files, node_modules' packages) the folder, how many it holds and what the
 * checklist expects; then what to do: finish Phase 1, shrink anyway, or change the threshold.
 */
import { AtlasError } from '../errors.js';
import { shortfallText } from '../../common/check-shortfall.js';
import type { NextStep } from '../../common/next-steps.js';
import type { VerifyReport } from '../../common/results.js';

export function checklistFailed(report: VerifyReport, outcome: string): AtlasError {
  const failed = report.checks.filter((c) => !c.ok && c.severity === 'error');
  const why = failed.map((c) => (c.shortfall ? `${c.label}: ${shortfallText(c.shortfall)}` : c.label));
  const counted = failed.find((c) => c.shortfall);
  const next: NextStep[] = [{ do: 'show-checklist' }, { do: 'force' }];
  if (counted && report.checklistFile)
    next.push({ do: 'edit-checklist', check: counted.id, file: report.checklistFile });
  return new AtlasError(
    'checklist-failed',
    `the Phase 1 checklist failed (${why.join('; ')}): ${outcome}`,
    counted
      ? 'finish Phase 1 on the device first; if the card is as it should be (a firstboot that installs fewer files now), the checklist expects too many'
      : 'finish Phase 1 on the device first',
    { next },
  );
}
