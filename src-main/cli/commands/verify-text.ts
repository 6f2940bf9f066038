/** A checklist report as the CLI prints it (verify, and shrink before it shrinks). */
import type { VerifyReport } from '../../core/phases/verify.js';
import { shortfallText } from '../../common/check-shortfall.js';
import { table } from '../format.js';

export function verifyText(r: VerifyReport): string {
  const rows = r.checks.map((c) => [
    c.ok ? '✅' : c.severity === 'warn' ? '⚠️ ' : '❌',
    `${c.label}:`,
    c.ok ? c.expected : `NOT ${c.expected}`,
    `(${c.evidence.join('; ')})`,
  ]);
  const verdict = r.ok
    ? `All required checks passed${r.warnings ? ` (${r.warnings} warning${r.warnings > 1 ? 's' : ''})` : ''}.`
    : `${r.failed} check${r.failed > 1 ? 's' : ''} failed.`;
  const why = r.checks
    .filter((c) => !c.ok && c.shortfall)
    .map(
      (c) =>
        `  ${c.label}: ${shortfallText(c.shortfall!)}${r.checklistFile ? ` (check "${c.id}" in ${r.checklistFile})` : ''}.`,
    );
  const todo = why.length
    ? [
        '  If the card is as it should be (its firstboot now installs fewer), shrink with --force, or copy the',
        '  checklist, lower that check\'s "min" and pass --checklist FILE.',
      ]
    : [];
  return [r.title, table(rows), verdict, ...why, ...todo].join('\n');
}
