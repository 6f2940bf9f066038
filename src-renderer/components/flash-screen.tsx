/**
 * Flash: an image onto one or more cards, each written in 1 MiB blocks (partition table last)
 * and verified by reading it back. The host layer's safety rules are shown as reasons per card.
 */
import { useEffect, useState } from 'react';
import type { FlashResultDto } from '../../src-main/common/contract';
import { useStore } from '../store/store';
import { diskName, flashReady } from '../store/flash-slice';
import { baseName, bytes } from '../lib/format';
import { CardPicker } from './card-picker';
import { ConfirmDialog } from './confirm-dialog';
import { CheckItem, checkState } from './check-item';
import { FinishView } from './finish-view';
import { ActionButton } from './action-button';
import { DropZone } from './drop-zone';
import { ErrorBox } from './error-box';
import { JobPanel } from './job-panel';
import { ScreenHeader } from './screen-header';
import { appStepsText } from '../next-steps';

export function FlashScreen() {
  const flash = useStore((s) => s.flash);
  const items = useStore((s) => s.library?.items);
  const { setFlashImage, pickFlashImage, toggleFlashTarget, setFlashVerify, setFlashTyped, startFlash } =
    useStore.getState();
  const [confirming, setConfirming] = useState(false);
  useEffect(() => {
    void useStore.getState().restoreFlashImage();
  }, []);
  const images = (items ?? []).filter((i) => i.kind !== 'clone-set');
  const usable = flashReady(flash);
  const job = useStore((s) => (s.flash.jobId ? s.jobs[s.flash.jobId] : undefined));
  const running = job?.state === 'running';
  const waiting: string[] = [];
  if (!flash.image) waiting.push('an image');
  if (usable.length === 0) {
    const untyped = flash.checks.some((c) => c.usable && c.confirm);
    waiting.push(untyped ? 'the name of the disk typed' : 'a card ticked');
  }
  const header = (
    <ScreenHeader
      phase="Deploy"
      title="Flash: write an image to cards"
      subtitle="Any .img, .img.xz, .img.gz or .img.zst onto one or more SD cards. Each card is verified by reading it back; one failing card does not stop the others."
    />
  );

  if (job?.outcome?.kind === 'flash') {
    return (
      <div className="screen">
        {header}
        <FlashFinished result={job.outcome.result} />
        <JobPanel jobId={flash.jobId} />
      </div>
    );
  }

  return (
    <div className="screen">
      {header}
      <section className="panel step">
        <h2>
          <span className="step-no">1</span> Image
        </h2>
        <div className="row">
          <select
            aria-label="Image from the library"
            value={flash.image ?? ''}
            onChange={(e) => void setFlashImage(e.target.value || null)}
          >
            <option value="">Choose an image from the library…</option>
            {images.map((i) => (
              <option key={i.path} value={i.path}>
                {i.name} ({bytes(i.bytes)})
              </option>
            ))}
            {flash.image && !images.some((i) => i.path === flash.image) && (
              <option value={flash.image}>{baseName(flash.image)}</option>
            )}
          </select>
        </div>
        <DropZone
          current={flash.image}
          what="the image to flash"
          onPath={(p) => void setFlashImage(p)}
          onPick={() => void pickFlashImage()}
          prompt={
            <>
              <strong>Or drop an .img, .img.xz, .img.gz or .img.zst here</strong>
              <div className="muted">a golden or clone image, or any Raspberry Pi image</div>
            </>
          }
        />
      </section>
      <section className="panel step">
        <h2>
          <span className="step-no">2</span> Cards
        </h2>
        <CardPicker
          label="Cards to flash"
          scope="flash"
          purpose="write"
          multiple
          selected={flash.targets}
          onToggle={(c) => void toggleFlashTarget(c)}
        />
        {flash.checks.length > 0 && (
          <ul className="checks" aria-label="Safety checks">
            {flash.checks.map((c) => (
              <CheckItem key={c.card.path} state={checkState(c.usable)}>
                <span className="mono">{c.card.path}</span>
                <span className="muted">
                  {!c.usable
                    ? c.reasons.join('; ')
                    : c.confirm
                      ? `${c.confirm}: written only if you type its name`
                      : `ready (${bytes(c.card.bytes)})`}
                </span>
                {c.usable && c.confirm && (
                  <label className="confirm-name">
                    Type <span className="mono">{diskName(c.card.path)}</span> to write it{' '}
                    <input
                      type="text"
                      aria-label={`Type ${diskName(c.card.path)} to confirm`}
                      autoComplete="off"
                      spellCheck={false}
                      value={flash.typed[c.card.path] ?? ''}
                      onChange={(e) => setFlashTyped(c.card.path, e.target.value)}
                    />
                  </label>
                )}
              </CheckItem>
            ))}
          </ul>
        )}
      </section>
      <div className="actions">
        <label className="check">
          <input type="checkbox" checked={flash.verify} onChange={(e) => setFlashVerify(e.target.checked)} />{' '}
          Verify after writing (read the card back)
        </label>
        <ActionButton waiting={waiting} busy={running} onClick={() => setConfirming(true)}>
          Flash {usable.length || ''} card{usable.length === 1 ? '' : 's'}
        </ActionButton>
      </div>
      {flash.error && <ErrorBox error={flash.error} />}
      {confirming && flash.image && (
        <ConfirmDialog
          title="Erase and flash?"
          message={`Everything on ${usable.length === 1 ? 'this card' : `these ${usable.length} cards`} will be erased and replaced by ${baseName(flash.image)}.`}
          cards={flash.targets.filter((t) => usable.some((u) => u.card.path === t.ref.path))}
          confirmLabel="Erase and flash"
          onCancel={() => setConfirming(false)}
          onConfirm={() => {
            setConfirming(false);
            void startFlash();
          }}
        />
      )}
      <JobPanel jobId={flash.jobId} />
    </div>
  );
}

/** The finish screen: per card written, verified (the read-back matches), ejected, or why it failed. */
function FlashFinished({ result: r }: { result: FlashResultDto }) {
  const { flashAnother, finishFlash } = useStore.getState();
  const ok = r.cards.length - r.failed;
  return (
    <FinishView
      title={`${baseName(r.image)} flashed to ${ok} of ${r.cards.length} card${r.cards.length === 1 ? '' : 's'}`}
      listLabel="Flashed cards"
      againLabel="Flash another"
      onAgain={flashAnother}
      onDone={finishFlash}
      cards={r.cards.map((c) => ({
        card: c.card,
        ok: c.ok,
        eject: c.eject,
        text: c.ok
          ? c.verified
            ? 'Written and verified: the read-back matches the image.'
            : 'Written (not verified).'
          : [c.error?.message ?? 'failed', c.error?.hint, appStepsText(c.error?.next)]
              .filter(Boolean)
              .join(' — '),
      }))}
    >
      <p className="muted">
        {bytes(r.mappedBytes)} of {bytes(r.imageBytes)} written per card (
        {r.mode === 'stream'
          ? 'the whole image'
          : r.mode === 'bmap'
            ? 'blocks listed in the .bmap'
            : 'used blocks only'}
        ).
      </p>
    </FinishView>
  );
}
