/**
 * The end of a write (flash, restore, erase), as Etcher and Raspberry Pi Imager end theirs: what
 * happened to each card, whether it was ejected and can be removed, then "another" (the same
 * source onto new cards) or "done".
 */
import { useEffect, useRef, type ReactNode } from 'react';
import type { EjectDto } from '../../src-main/common/contract';
import { useStore } from '../store/store';
import { CheckItem, checkState } from './check-item';

export interface FinishedCard {
  /** The card's device or file path. */
  card: string;
  ok: boolean;
  /** What was done to it, or why it failed. */
  text: string;
  eject?: EjectDto | undefined;
}

/** How the card is named to the user: its reader, model and size when it is still listed. */
function useCardName(path: string): string {
  const listed = useStore((s) => s.cards.readers.find((c) => c.ref.path === path));
  return listed ? listed.description : path;
}

function ejectText(c: FinishedCard): string {
  if (!c.ok) return 'Not ejected';
  if (!c.eject) return 'An image file: nothing to eject';
  return c.eject.ejected ? 'Ejected: you can remove it.' : `Not ejected: ${c.eject.message}`;
}

function CardRow({ c }: { c: FinishedCard }) {
  const name = useCardName(c.card);
  return (
    <CheckItem state={checkState(c.ok)} markLabel={c.ok ? 'done' : 'failed'}>
      <span className="finish-card">
        <span className="mono">{name}</span>
        <span>{c.text}</span>
        <span className={c.eject?.ejected ? 'eject ejected' : 'eject muted'}>{ejectText(c)}</span>
      </span>
    </CheckItem>
  );
}

export function FinishView({
  title,
  cards,
  listLabel,
  againLabel,
  onAgain,
  onDone,
  children,
}: {
  title: string;
  cards: FinishedCard[];
  listLabel: string;
  againLabel: string;
  onAgain(): void;
  onDone(): void;
  children?: ReactNode;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  const failed = cards.filter((c) => !c.ok).length;
  useEffect(() => {
    heading.current?.focus();
    heading.current?.scrollIntoView?.({ block: 'start', behavior: 'smooth' });
  }, []);
  return (
    <section className={`panel finish${failed ? ' finish-failed' : ''}`} aria-labelledby="finish-title">
      <h2 id="finish-title" ref={heading} tabIndex={-1}>
        <span className={`badge ${failed ? 'badge-failed' : 'badge-done'}`}>
          {failed ? `${failed} failed` : 'Done'}
        </span>{' '}
        {title}
      </h2>
      {children}
      <ul className="checks finish-cards" aria-label={listLabel}>
        {cards.map((c) => (
          <CardRow key={c.card} c={c} />
        ))}
      </ul>
      <div className="actions">
        <button type="button" className="button secondary" onClick={onDone}>
          Done
        </button>
        <button type="button" className="button primary" onClick={onAgain}>
          {againLabel}
        </button>
      </div>
    </section>
  );
}
