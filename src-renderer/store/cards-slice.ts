/**
 * The cards the user can pick: removable disks in the readers (with the host layer's reasons
 * when one must not be written) and image files standing in for cards.
 */
import type { StateCreator } from 'zustand';
import type { CardCandidate, ErrorInfo } from '../../src-main/ipc/contract';
import { call, errorInfo } from '../api/client';
import type { Store } from './store';

export interface CardsSlice {
  cards: { readers: CardCandidate[]; imageFiles: CardCandidate[]; error: ErrorInfo | null; loading: boolean };
  refreshCards(): Promise<void>;
  /** Asks for an image file to use as a card; returns it, or null when the user cancelled. */
  pickImageCard(): Promise<CardCandidate | null>;
}

export const createCardsSlice: StateCreator<Store, [], [], CardsSlice> = (set, get) => ({
  cards: { readers: [], imageFiles: [], error: null, loading: false },
  refreshCards: async () => {
    set((s) => ({ cards: { ...s.cards, loading: true } }));
    try {
      const readers = await call('cards:list');
      set((s) => ({ cards: { ...s.cards, readers, error: null, loading: false } }));
    } catch (e) {
      set((s) => ({ cards: { ...s.cards, error: errorInfo(e), loading: false } }));
    }
  },
  pickImageCard: async () => {
    try {
      const path = await call('dialog:open-file', 'card-image');
      if (!path) return null;
      const card = await call('cards:identify', path);
      const others = get().cards.imageFiles.filter((c) => c.ref.path !== card.ref.path);
      set((s) => ({ cards: { ...s.cards, imageFiles: [...others, card], error: null } }));
      return card;
    } catch (e) {
      set((s) => ({ cards: { ...s.cards, error: errorInfo(e) } }));
      return null;
    }
  },
});
