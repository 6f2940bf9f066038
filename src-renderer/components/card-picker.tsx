/**
 * Pick a card: the removable disks in the readers or an image file standing in for a card.
 * A card the host layer refuses to write stays in the list with its reasons, never silently
 * hidden; for reading (clone, verify, shrink) it can still be picked. The list follows the
 * readers by itself (cards plugged in or out show within two seconds, as Etcher's and
 * Raspberry Pi Imager's lists do); an image file is listed only where the user picked it.
 */
import { useEffect, useState, type DragEvent } from 'react';
import { pathForFile } from '../api/client';
import type { CardCandidate } from '../../src-main/common/contract';
import { useStore } from '../store/store';
import type { CardScope } from '../store/cards-slice';
import { bytes } from '../lib/format';
import { ErrorBox } from './error-box';

/** How often the readers are listed again while a card list is shown. */
export const CARD_POLL_MS = 2000;

/** One poll for every card list on the screen, running while at least one is shown. */
let watchers = 0;
let timer: ReturnType<typeof setInterval> | undefined;
function watchCards(): () => void {
  watchers += 1;
  if (watchers === 1) {
    timer = setInterval(() => void useStore.getState().refreshCards({ quiet: true }), CARD_POLL_MS);
  }
  return () => {
    watchers -= 1;
    if (watchers === 0) clearInterval(timer);
  };
}

export function CardPicker({
  selected,
  onToggle,
  purpose,
  multiple = false,
  label,
  scope,
}: {
  selected: CardCandidate[];
  onToggle(card: CardCandidate): void;
  purpose: 'read' | 'write';
  multiple?: boolean;
  label: string;
  /** The list an image file picked here belongs to. */
  scope: CardScope;
}) {
  const cards = useStore((s) => s.cards);
  const refreshCards = useStore((s) => s.refreshCards);
  const pickImageCard = useStore((s) => s.pickImageCard);
  const addImageCard = useStore((s) => s.addImageCard);
  const [over, setOver] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    void refreshCards();
    return watchCards();
  }, [refreshCards]);

  const all = [...cards.readers, ...(cards.imageFiles[scope] ?? [])];
  const isSelected = (c: CardCandidate) => selected.some((s) => s.ref.path === c.ref.path);
  // A file that must not be written is listed with its reasons, never ticked.
  const take = (c: CardCandidate | null) => {
    if (c && !isSelected(c) && (purpose === 'read' || c.usable)) onToggle(c);
  };
  const onDrop = (e: DragEvent<HTMLDivElement>) => {
    e.preventDefault();
    setOver(false);
    const file = e.dataTransfer.files[0];
    if (!file) return;
    // A card image is a plain .img: the card is written or read in place.
    const path = /\.img$/i.test(file.name) ? pathForFile(file) : '';
    setProblem(path ? null : `${file.name} is not an .img file: drop an image file to use as the card`);
    if (path) void addImageCard(scope, path).then(take);
  };
  return (
    <div
      className={`card-picker${over ? ' over' : ''}`}
      role="group"
      aria-label={label}
      onDragEnter={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragOver={(e) => e.preventDefault()}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      {all.length === 0 && (
        <p className="muted">
          {cards.loading
            ? 'Looking for cards…'
            : 'No SD card found in the readers. Insert one, or use an image file.'}
        </p>
      )}
      <ul className="card-list">
        {all.map((c) => {
          const blocked = purpose === 'write' && !c.usable;
          return (
            <li
              key={c.ref.path}
              className={`card-item${isSelected(c) ? ' selected' : ''}${blocked ? ' blocked' : ''}`}
            >
              <label>
                <input
                  type={multiple ? 'checkbox' : 'radio'}
                  name={label}
                  checked={isSelected(c)}
                  disabled={blocked}
                  onChange={() => onToggle(c)}
                />
                <span className="card-kind">{c.ref.kind === 'file' ? 'image file' : 'card'}</span>
                <span className="card-desc mono">{c.ref.kind === 'file' ? c.ref.path : c.description}</span>
                <span className="muted">{bytes(c.ref.bytes)}</span>
              </label>
              {purpose === 'write' && c.usable && c.confirm && (
                <ul className="reasons">
                  <li>{c.confirm}: it is written only after you type its name</li>
                </ul>
              )}
              {c.reasons.length > 0 && (
                <ul className="reasons">
                  {c.reasons.map((r) => (
                    <li key={r}>{r}</li>
                  ))}
                </ul>
              )}
            </li>
          );
        })}
      </ul>
      <div className="row">
        <button
          type="button"
          className="button secondary small"
          onClick={() => void pickImageCard(scope).then(take)}
        >
          Use an image file…
        </button>
        <span className="muted small">or drop one here</span>
      </div>
      {problem && (
        <p className="field-error" role="alert">
          {problem}
        </p>
      )}
      {cards.error && <ErrorBox error={cards.error} />}
    </div>
  );
}
