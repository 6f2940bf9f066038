/**
 * The cards the user can pick: removable disks in the readers (with the host layer's reasons
 * when one must not be written) and image files standing in for cards. An image file is a card
 * only in the list where the user picked it as one: a source picked on one screen never becomes
 * a write target on another.
 */
import type { StateCreator } from 'zustand';
import type { CardCandidate, ErrorInfo } from '../../src-main/common/contract';
import { call, errorInfo } from '../api/client';
import type { Store } from './store';

/** Which list an image file was picked in: one per card picker. */
export type CardScope = 'flash' | 'erase' | 'clone' | 'restore' | 'shrink';

export interface CardsState {
  readers: CardCandidate[];
  /** Image files picked as cards, by the list they were picked in. */
  imageFiles: Partial<Record<CardScope, CardCandidate[]>>;
  error: ErrorInfo | null;
  loading: boolean;
}

export interface CardsSlice {
  cards: CardsState;
  /** Lists the readers again; a card no longer there is unticked everywhere. */
  refreshCards(options?: { quiet?: boolean }): Promise<void>;
  /** Unticks, on every screen, the cards in the readers that are not in `present` any more. */
  dropVanishedCards(present: string[]): void;
  /** Asks for an image file to use as a card in one list; returns it, or null when cancelled. */
  pickImageCard(scope: CardScope): Promise<CardCandidate | null>;
  /** An image file dropped on one list, as a card there; null when it cannot be read. */
  addImageCard(scope: CardScope, path: string): Promise<CardCandidate | null>;
}

export const createCardsSlice: StateCreator<Store, [], [], CardsSlice> = (set, get) => ({
  cards: { readers: [], imageFiles: {}, error: null, loading: false },
  refreshCards: async (options = {}) => {
    if (!options.quiet) set((s) => ({ cards: { ...s.cards, loading: true } }));
    try {
      const readers = await call('cards:list');
      set((s) => ({ cards: { ...s.cards, readers, error: null, loading: false } }));
      get().dropVanishedCards(readers.map((c) => c.ref.path));
    } catch (e) {
      set((s) => ({ cards: { ...s.cards, error: errorInfo(e), loading: false } }));
    }
  },
  dropVanishedCards: (present) => {
    const gone = (c: CardCandidate | null) => !!c && c.ref.kind === 'device' && !present.includes(c.ref.path);
    const { flash, clone, shrink } = get();
    const targets = flash.targets.filter((c) => !gone(c));
    if (targets.length !== flash.targets.length || gone(flash.eraseCard)) {
      set((s) => ({
        flash: { ...s.flash, targets, eraseCard: gone(s.flash.eraseCard) ? null : s.flash.eraseCard },
      }));
      if (targets.length !== flash.targets.length) void get().checkFlash();
    }
    if (gone(clone.card) || gone(clone.restoreCard)) {
      set((s) => ({
        clone: {
          ...s.clone,
          card: gone(s.clone.card) ? null : s.clone.card,
          restoreCard: gone(s.clone.restoreCard) ? null : s.clone.restoreCard,
        },
      }));
    }
    if (gone(shrink.card)) set((s) => ({ shrink: { ...s.shrink, card: null } }));
  },
  pickImageCard: async (scope) => {
    try {
      const path = await call('dialog:open-file', 'card-image');
      return path ? await get().addImageCard(scope, path) : null;
    } catch (e) {
      set((s) => ({ cards: { ...s.cards, error: errorInfo(e) } }));
      return null;
    }
  },
  addImageCard: async (scope, path) => {
    try {
      const card = await call('cards:identify', path);
      const others = (get().cards.imageFiles[scope] ?? []).filter((c) => c.ref.path !== card.ref.path);
      set((s) => ({
        cards: { ...s.cards, imageFiles: { ...s.cards.imageFiles, [scope]: [...others, card] }, error: null },
      }));
      return card;
    } catch (e) {
      set((s) => ({ cards: { ...s.cards, error: errorInfo(e) } }));
      return null;
    }
  },
});
