/** The pre-shrink checklist as ticks and crosses, each line with its evidence. */
import type { VerifyReportDto } from '../../src-main/common/contract';
import { shortfallText } from '../../src-main/common/check-shortfall';
import { CheckItem, checkState } from './check-item';
import { ThresholdEditor } from './threshold-editor';

export function ChecklistView({
  report,
  onThreshold,
}: {
  report: VerifyReportDto;
  /** Changes a count check's threshold in the library's own checklist. */
  onThreshold?: (id: string, min: number) => Promise<void>;
}) {
  return (
    <div className="checklist">
      <div className={`verdict ${report.ok ? 'ok' : 'bad'}`}>
        {report.ok
          ? `All required checks passed${report.warnings ? ` (${report.warnings} warning${report.warnings > 1 ? 's' : ''})` : ''}.`
          : `${report.failed} check${report.failed > 1 ? 's' : ''} failed: finish Phase 1 on the device first.`}
      </div>
      <ul className="checks" aria-label={report.title}>
        {report.checks.map((c) => (
          <CheckItem key={c.id} state={checkState(c.ok, c.severity)} markLabel={c.ok ? 'passed' : 'failed'}>
            <span className="check-label">{c.label}</span>
            <span className="check-expected">{c.ok ? c.expected : `NOT ${c.expected}`}</span>
            <span className="evidence mono">{c.evidence.join('; ')}</span>
            {!c.ok && c.shortfall && (
              <span className="check-why">
                {shortfallText(c.shortfall)}
                {report.checklistFile ? ` (check “${c.id}” in ${report.checklistFile})` : ''}. If the card is
                as it should be, tick “Shrink anyway”, or change this check’s threshold (kept in the library’s
                own checklist; the shipped one is not changed).
              </span>
            )}
            {!c.ok && c.shortfall && onThreshold && (
              <ThresholdEditor id={c.id} label={c.label} found={c.shortfall.found} onSave={onThreshold} />
            )}
          </CheckItem>
        ))}
      </ul>
    </div>
  );
}
