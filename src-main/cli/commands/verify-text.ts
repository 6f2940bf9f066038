/** A checklist report as the CLI prints it (verify, and shrink before it shrinks). */
import type { VerifyReport } from '../../core/phases/verify.js';
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
  return `${r.title}\n${table(rows)}\n${verdict}`;
}
