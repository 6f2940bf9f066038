/**
 * Verify + Shrink (Phase 2): the checklist on a card after Phase 1 (ticks, crosses, evidence),
 * then the shrink to ods-atlas-clone-vN-P-TAG.img, which grows to fill its card on first boot, or
 * to a distributable: .img.zst / .img.xz with its .bmap and .sha256, free space zeroed.
 */
import { useEffect } from 'react';
import { useStore } from '../store/store';
import { bytes } from '../lib/format';
import { CardPicker } from './card-picker';
import { ChecklistView } from './checklist-view';
import { ActionButton } from './action-button';
import { ErrorBox } from './error-box';
import { JobPanel } from './job-panel';
import { NameFields } from './name-fields';
import { OutputName } from './output-name';
import { ScreenHeader } from './screen-header';

const COMPRESS_CHOICES = [
  ['none', 'Plain .img (as the seed)'],
  ['zst', 'Distributable .img.zst (fast)'],
  ['xz', 'Distributable .img.xz (smallest)'],
] as const;

export function ShrinkScreen() {
  const shrink = useStore((s) => s.shrink);
  const verifyJob = useStore((s) => (s.shrink.verifyJobId ? s.jobs[s.shrink.verifyJobId] : undefined));
  const shrinkJob = useStore((s) => (s.shrink.shrinkJobId ? s.jobs[s.shrink.shrinkJobId] : undefined));
  const loadShrinkDefaults = useStore((s) => s.loadShrinkDefaults);
  const libraryItems = useStore((s) => s.library?.items.length ?? 0);
  const planShrink = useStore((s) => s.planShrink);
  const a = useStore.getState();

  useEffect(() => {
    void loadShrinkDefaults();
  }, [loadShrinkDefaults]);
  // A finished shrink puts the image in the library: the same name is then taken.
  useEffect(() => {
    if (useStore.getState().shrink.plan) void planShrink();
  }, [libraryItems, planShrink]);

  const report = verifyJob?.outcome?.kind === 'verify' ? verifyJob.outcome.result : null;
  const planOk = shrink.plan !== null && !shrink.plan.error && !shrink.plan.exists;
  const waiting: string[] = [];
  if (!shrink.card) waiting.push('a card');
  else if (!report) waiting.push('the checklist');
  else if (!report.ok && !shrink.force) waiting.push('a checklist that passes (or "Shrink anyway")');
  if (!planOk) waiting.push('a valid, new version and tag');

  return (
    <div className="screen">
      <ScreenHeader
        phase="Phase 2"
        title="Verify + Shrink"
        subtitle="The Phase 1 checklist, read offline from the card, then a compact ods-atlas-clone image made from a copy (the card is only read). The image grows to fill its card on first boot."
      />
      <section className="panel step">
        <h2>
          <span className="step-no">1</span> Card after Phase 1
        </h2>
        <CardPicker
          label="Card to verify and shrink"
          scope="shrink"
          purpose="read"
          selected={shrink.card ? [shrink.card] : []}
          onToggle={(c) => void a.setShrinkCard(c)}
        />
      </section>
      <section className="panel step">
        <h2>
          <span className="step-no">2</span> Verification checklist
          {shrink.card && verifyJob?.state !== 'running' && (
            <button
              type="button"
              className="button secondary small push"
              onClick={() => void a.startVerify()}
            >
              Verify again
            </button>
          )}
        </h2>
        {!shrink.card && <p className="muted">Pick a card: the checklist runs at once.</p>}
        {verifyJob?.state !== 'done' && <JobPanel jobId={shrink.verifyJobId} />}
        {report && <ChecklistView report={report} onThreshold={(id, min) => a.setCheckThreshold(id, min)} />}
      </section>
      <section className="panel step">
        <h2>
          <span className="step-no">3</span> Shrink
        </h2>
        <NameFields
          version={shrink.version}
          tag={shrink.tag}
          onChange={(part, value) => void a.setShrinkName(part, value)}
          labelPrefix="Clone image"
          plan={shrink.plan}
        />
        <fieldset className="choice-group">
          <legend>Output</legend>
          {COMPRESS_CHOICES.map(([value, label]) => (
            <label key={value} className="choice">
              <input
                type="radio"
                name="shrink-compress"
                value={value}
                checked={shrink.compress === value}
                onChange={() => void a.setShrinkCompress(value)}
              />{' '}
              {label}
            </label>
          ))}
        </fieldset>
        <OutputName
          plan={shrink.plan}
          justMade={
            shrinkJob?.outcome?.kind === 'shrink' && shrinkJob.outcome.result.image === shrink.plan?.path
          }
        />
        {report && !report.ok && (
          <label className="check warn-text">
            <input
              type="checkbox"
              checked={shrink.force}
              onChange={(e) => a.setShrinkForce(e.target.checked)}
            />{' '}
            Shrink anyway, although the checklist failed
          </label>
        )}
        <div className="actions">
          <ActionButton
            waiting={waiting}
            busy={shrinkJob?.state === 'running'}
            onClick={() => void a.startShrink()}
          >
            Shrink to image
          </ActionButton>
        </div>
        {shrink.error && <ErrorBox error={shrink.error} />}
        <JobPanel jobId={shrink.shrinkJobId}>
          {shrinkJob?.outcome?.kind === 'shrink' && (
            <div className="result">
              <p>
                <strong>Clone image (Phase 2):</strong>{' '}
                <span className="mono">{shrinkJob.outcome.result.image}</span> (
                {bytes(shrinkJob.outcome.result.bytes)})
              </p>
              <p className="muted">
                Root partition {bytes(shrinkJob.outcome.result.rootSectors * 512)} from sector{' '}
                {shrinkJob.outcome.result.rootStart}; armbian-resize-filesystem.service{' '}
                {shrinkJob.outcome.result.resizeService}: it grows on first boot.
              </p>
              <ul className="muted" aria-label="resize2fs passes">
                {shrinkJob.outcome.result.passes.map((p) => (
                  <li key={p.pass}>
                    resize2fs -M pass {p.pass}: {p.before} → {p.after} blocks (gained {p.gained})
                  </li>
                ))}
              </ul>
              {shrinkJob.outcome.result.compression !== 'none' && (
                <p className="muted">
                  {shrinkJob.outcome.result.compression} of a {bytes(shrinkJob.outcome.result.imageBytes)}{' '}
                  image, free space zeroed; block map{' '}
                  <span className="mono">{shrinkJob.outcome.result.bmap}</span>, checksum{' '}
                  <span className="mono">{shrinkJob.outcome.result.sha256File}</span>
                </p>
              )}
              <p className="muted mono">sha256 {shrinkJob.outcome.result.sha256}</p>
            </div>
          )}
        </JobPanel>
      </section>
    </div>
  );
}
