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
import { ActionButton } from './action-button';
import { ErrorBox } from './error-box';
import { FinishView } from './finish-view';
import { JobPanel } from './job-panel';
import { OutputName } from './output-name';
import { TextField } from './text-field';
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

  const cloneWaiting: string[] = [];
  if (!clone.card) cloneWaiting.push('a card');
  if (!clone.plan || clone.plan.error || clone.plan.exists) cloneWaiting.push('a valid, new clone set name');
  const typedOk =
    !clone.restoreCard?.confirm || clone.restoreTyped.trim() === diskName(clone.restoreCard.ref.path);
  const restoreWaiting: string[] = [];
  if (!clone.restoreSet) restoreWaiting.push('a clone set');
  if (!clone.restoreCard?.usable) restoreWaiting.push('a card that can be written');
  else if (!typedOk) restoreWaiting.push(`its name typed (${diskName(clone.restoreCard.ref.path)})`);

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
          scope="clone"
          purpose="read"
          selected={clone.card ? [clone.card] : []}
          onToggle={(c) => a.setCloneCard(c)}
        />
        <div className="row fields">
          <TextField
            title="Tag"
            label="Clone tag"
            value={clone.tag}
            onChange={(v) => void a.setCloneTag(v)}
            error={clone.plan?.field === 'tag' ? clone.plan.error : undefined}
          />
          <TextField
            title="Clone set name"
            className="grow"
            value={clone.name}
            onChange={(v) => void a.setCloneName(v)}
            error={clone.plan?.field === 'name' ? clone.plan.error : undefined}
          />
        </div>
        <p className="muted">
          {clone.previous
            ? `Suggested after the newest set, ${clone.previous}.`
            : 'No clone set yet: the first safety net of the sprint.'}
        </p>
        <OutputName
          plan={clone.plan}
          justMade={cloneJob?.outcome?.kind === 'clone' && cloneJob.outcome.result.dir === clone.plan?.path}
        />
        <div className="actions">
          <ActionButton
            waiting={cloneWaiting}
            busy={cloneJob?.state === 'running'}
            onClick={() => void a.startClone()}
          >
            Clone card
          </ActionButton>
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

      {restoreJob?.outcome?.kind === 'restore' ? (
        <>
          <FinishView
            title={`${baseName(restoreJob.outcome.result.set)} restored`}
            listLabel="Restored card"
            againLabel="Restore onto another card"
            onAgain={a.restoreAnother}
            onDone={a.finishRestore}
            cards={[
              {
                card: restoreJob.outcome.result.card,
                ok: true,
                eject: restoreJob.outcome.result.eject,
                text: `Root partition ${restoreJob.outcome.result.grown ? 'grown to' : 'kept at'} ${bytes(
                  restoreJob.outcome.result.rootSectors * 512,
                )}${restoreJob.outcome.result.shrunkToFit ? ', shrunk to fit this card' : ''}.`,
              },
            ]}
          />
          <JobPanel jobId={clone.restoreJobId} />
        </>
      ) : (
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
            scope="restore"
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
            <ActionButton
              waiting={restoreWaiting}
              busy={restoreJob?.state === 'running'}
              onClick={() => setConfirming(true)}
            >
              Restore
            </ActionButton>
          </div>
          {clone.restoreError && <ErrorBox error={clone.restoreError} title="The restore could not start" />}
          {confirming && clone.restoreCard && clone.restoreSet && (
            <ConfirmDialog
              title="Erase and restore?"
              message={`Everything on this card will be erased and replaced by ${baseName(clone.restoreSet)}.`}
              cards={[clone.restoreCard]}
              confirmLabel="Erase and restore"
              onCancel={() => setConfirming(false)}
              onConfirm={() => {
                setConfirming(false);
                void a.startRestore();
              }}
            />
          )}
          <JobPanel jobId={clone.restoreJobId} />
        </section>
      )}
    </div>
  );
}
