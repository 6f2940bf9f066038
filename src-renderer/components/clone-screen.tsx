/**
 * Clone / Restore (Phase 1): a provisioned card -> golden-clone-NAME/ (the seed's safety net),
 * and a chosen clone set -> a card, root grown to fill it.
 */
import { useEffect, useState } from 'react';
import { useStore } from '../store/store';
import { diskName } from '../store/flash-slice';
import { baseName, bytes } from '../lib/format';
import { CardPicker } from './card-picker';
import { ConfirmDialog } from './confirm-dialog';
import { ErrorBox } from './error-box';
import { JobPanel } from './job-panel';
import { OutputName } from './output-name';
import { ScreenHeader } from './screen-header';

export function CloneScreen() {
  const clone = useStore((s) => s.clone);
  const items = useStore((s) => s.library?.items);
  const cloneJob = useStore((s) => (s.clone.jobId ? s.jobs[s.clone.jobId] : undefined));
  const restoreJob = useStore((s) => (s.clone.restoreJobId ? s.jobs[s.clone.restoreJobId] : undefined));
  const a = useStore.getState();
  const loadCloneDefaults = useStore((s) => s.loadCloneDefaults);
  const [confirming, setConfirming] = useState(false);
  const sets = (items ?? []).filter((i) => i.kind === 'clone-set');
  const found = useStore((s) => s.library?.elsewhere);
  const elsewhere = (found ?? []).filter((s) => s.missing.length === 0);

  // A new clone set moves the suggestion on: v8-0-6-FLASH -> v8-0-7-FLASH.
  useEffect(() => {
    void loadCloneDefaults();
  }, [loadCloneDefaults, sets.length]);

  const canClone =
    clone.card && clone.plan && !clone.plan.error && !clone.plan.exists && cloneJob?.state !== 'running';
  const typedOk =
    !clone.restoreCard?.confirm || clone.restoreTyped.trim() === diskName(clone.restoreCard.ref.path);
  const canRestore =
    clone.restoreCard?.usable && typedOk && clone.restoreSet && restoreJob?.state !== 'running';

  return (
    <div className="screen">
      <ScreenHeader
        phase="Phase 1"
        title="Clone / Restore"
        subtitle="Snapshot a provisioned card into a safety-net clone set (partclone, used blocks only, compressed), or restore a set onto a card. Sprint pattern: Develop → Verify → Clone."
      />
      <section className="panel step">
        <h2>Clone a card</h2>
        <CardPicker
          label="Card to clone"
          purpose="read"
          selected={clone.card ? [clone.card] : []}
          onToggle={(c) => a.setCloneCard(c)}
        />
        <div className="row fields">
          <label>
            Tag
            <input
              value={clone.tag}
              onChange={(e) => void a.setCloneTag(e.target.value)}
              aria-label="Clone tag"
            />
          </label>
          <label className="grow">
            Clone set name
            <input
              value={clone.name}
              onChange={(e) => void a.setCloneName(e.target.value)}
              aria-label="Clone set name"
            />
          </label>
        </div>
        <p className="muted">
          {clone.previous
            ? `Suggested after the newest set, ${clone.previous}.`
            : 'No clone set yet: the first safety net of the sprint.'}
        </p>
        <OutputName plan={clone.plan} />
        <div className="actions">
          <button
            type="button"
            className="button primary"
            disabled={!canClone}
            onClick={() => void a.startClone()}
          >
            Clone card
          </button>
        </div>
        {clone.error && <ErrorBox error={clone.error} />}
        <JobPanel jobId={clone.jobId}>
          {cloneJob?.outcome?.kind === 'clone' && (
            <div className="result">
              <p>
                <strong>Clone set (Phase 1):</strong>{' '}
                <span className="mono">{cloneJob.outcome.result.dir}</span>
              </p>
              <table className="table compact">
                <tbody>
                  {cloneJob.outcome.result.files.map((f) => (
                    <tr key={f.name}>
                      <td className="mono">{f.name}</td>
                      <td>{bytes(f.bytes)}</td>
                      <td className="mono muted">{f.sha256.slice(0, 16)}…</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </JobPanel>
      </section>

      <section className="panel step">
        <h2>Restore a clone set onto a card</h2>
        <div className="row">
          <select
            aria-label="Clone set to restore"
            value={clone.restoreSet ?? ''}
            onChange={(e) => a.setRestoreSet(e.target.value || null)}
          >
            <option value="">Choose a clone set…</option>
            {sets.map((s) => (
              <option key={s.path} value={s.name}>
                {s.name} ({bytes(s.bytes)})
              </option>
            ))}
            {elsewhere.length > 0 && (
              <optgroup label="Elsewhere (checked before it is written)">
                {elsewhere.map((s) => (
                  <option key={s.path} value={s.path}>
                    {s.name} ({bytes(s.bytes)}) in {s.place.path}
                  </option>
                ))}
              </optgroup>
            )}
          </select>
        </div>
        <CardPicker
          label="Card to restore onto"
          purpose="write"
          selected={clone.restoreCard ? [clone.restoreCard] : []}
          onToggle={(c) => a.setRestoreCard(c)}
        />
        {clone.restoreCard?.usable && clone.restoreCard.confirm && (
          <label className="confirm-name">
            {clone.restoreCard.confirm}: type{' '}
            <span className="mono">{diskName(clone.restoreCard.ref.path)}</span> to restore onto it{' '}
            <input
              type="text"
              aria-label={`Type ${diskName(clone.restoreCard.ref.path)} to confirm`}
              autoComplete="off"
              spellCheck={false}
              value={clone.restoreTyped}
              onChange={(e) => a.setRestoreTyped(e.target.value)}
            />
          </label>
        )}
        <div className="actions">
          <button
            type="button"
            className="button primary"
            disabled={!canRestore}
            onClick={() => setConfirming(true)}
          >
            Restore
          </button>
        </div>
        {clone.restoreError && <ErrorBox error={clone.restoreError} title="The restore could not start" />}
        {confirming && clone.restoreCard && clone.restoreSet && (
          <ConfirmDialog
            title="Erase and restore?"
            message={`Everything on ${clone.restoreCard.description} will be erased and replaced by ${baseName(clone.restoreSet)}.`}
            confirmLabel="Erase and restore"
            onCancel={() => setConfirming(false)}
            onConfirm={() => {
              setConfirming(false);
              void a.startRestore();
            }}
          />
        )}
        <JobPanel jobId={clone.restoreJobId}>
          {restoreJob?.outcome?.kind === 'restore' && (
            <p className="result">
              <strong>Restored</strong> {baseName(restoreJob.outcome.result.set)} onto{' '}
              <span className="mono">{restoreJob.outcome.result.card}</span>; root partition{' '}
              {restoreJob.outcome.result.grown ? 'grown to' : 'kept at'}{' '}
              {bytes(restoreJob.outcome.result.rootSectors * 512)}.
              {restoreJob.outcome.result.eject &&
                ` ${restoreJob.outcome.result.eject.ejected ? 'Ejected: you can remove it.' : restoreJob.outcome.result.eject.message}`}
            </p>
          )}
        </JobPanel>
      </section>
    </div>
  );
}
