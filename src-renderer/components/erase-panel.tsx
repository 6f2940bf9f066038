/**
 * Erase: a card back to one FAT32 partition for normal use (as Raspberry Pi Imager's "Erase"),
 * with the same guards as Flash: refused disks are shown with their reason, an unusual disk is
 * erased only after its name is typed, and everything is confirmed first.
 */
import { useState } from 'react';
import { useStore } from '../store/store';
import { diskName, eraseReady } from '../store/flash-slice';
import { bytes } from '../lib/format';
import { CardPicker } from './card-picker';
import { ConfirmDialog } from './confirm-dialog';
import { ActionButton } from './action-button';
import { ErrorBox } from './error-box';
import { FinishView } from './finish-view';
import { JobPanel } from './job-panel';

export function ErasePanel() {
  const flash = useStore((s) => s.flash);
  const { setEraseCard, setEraseTyped, startErase, eraseAnother, finishErase } = useStore.getState();
  const [confirming, setConfirming] = useState(false);
  const job = useStore((s) => (s.flash.eraseJobId ? s.jobs[s.flash.eraseJobId] : undefined));
  const card = flash.eraseCard;
  const ready = eraseReady(flash) && job?.state !== 'running';
  if (job?.outcome?.kind === 'erase') {
    const r = job.outcome.result;
    return (
      <>
        <FinishView
          title="Card erased"
          listLabel="Erased card"
          againLabel="Erase another card"
          onAgain={eraseAnother}
          onDone={finishErase}
          cards={[
            {
              card: r.card,
              ok: true,
              eject: r.eject,
              text: `One FAT32 partition "${r.label}" of ${bytes(r.partitionSectors * 512)}${r.verified ? ', verified' : ''}.`,
            },
          ]}
        />
        <JobPanel jobId={flash.eraseJobId} />
      </>
    );
  }
  return (
    <section className="panel step">
      <h2>Erase a card for normal use</h2>
      <p className="muted">
        One FAT32 partition over the whole card (label BOOT, from 4 MiB), as Raspberry Pi Imager&apos;s Erase
        leaves it.
      </p>
      <CardPicker
        label="Card to erase"
        scope="erase"
        purpose="write"
        selected={card ? [card] : []}
        onToggle={(c) => setEraseCard(card?.ref.path === c.ref.path ? null : c)}
      />
      {card?.usable && card.confirm && (
        <label className="confirm-name">
          {card.confirm}: type <span className="mono">{diskName(card.ref.path)}</span> to erase it{' '}
          <input
            type="text"
            aria-label={`Type ${diskName(card.ref.path)} to confirm erasing`}
            autoComplete="off"
            spellCheck={false}
            value={flash.eraseTyped}
            onChange={(e) => setEraseTyped(e.target.value)}
          />
        </label>
      )}
      <div className="actions">
        <ActionButton
          waiting={
            !card
              ? ['a card']
              : ready || job?.state === 'running'
                ? []
                : [card.usable ? `its name typed (${diskName(card.ref.path)})` : 'a card that can be written']
          }
          busy={job?.state === 'running'}
          onClick={() => setConfirming(true)}
        >
          Erase
        </ActionButton>
      </div>
      {flash.eraseError && <ErrorBox error={flash.eraseError} title="The erase could not start" />}
      {confirming && card && (
        <ConfirmDialog
          title="Erase the card?"
          message="Everything on this card will be lost; it gets one empty FAT32 partition."
          cards={[card]}
          confirmLabel="Erase"
          onCancel={() => setConfirming(false)}
          onConfirm={() => {
            setConfirming(false);
            void startErase();
          }}
        />
      )}
      <JobPanel jobId={flash.eraseJobId} />
    </section>
  );
}
