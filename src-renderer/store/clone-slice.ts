/**
 * Clone / Restore (Phase 1): clone a picked card into a named safety-net set (the name that
 * follows the newest set is suggested, v8-0-6-FLASH -> v8-0-7-FLASH), and restore a chosen set
 * onto a card.
 */
import type { StateCreator } from 'zustand';
import type { CardCandidate, ErrorInfo, OutputPlan } from '../../src-main/common/contract';
import { call, errorInfo } from '../api/client';
import type { Store } from './store';
import { diskName } from './flash-slice';

export interface CloneState {
  card: CardCandidate | null;
  tag: string;
  name: string;
  previous: string | null;
  plan: OutputPlan | null;
  jobId: string | null;
  restoreCard: CardCandidate | null;
  restoreSet: string | null;
  /** What the user typed to confirm an unusual disk (larger than an SD card, or internal). */
  restoreTyped: string;
  restoreJobId: string | null;
  error: ErrorInfo | null;
  restoreError: ErrorInfo | null;
}

export interface CloneSlice {
  clone: CloneState;
  setCloneCard(card: CardCandidate | null): void;
  setCloneTag(tag: string): Promise<void>;
  setCloneName(name: string): Promise<void>;
  loadCloneDefaults(): Promise<void>;
  startClone(): Promise<void>;
  setRestoreCard(card: CardCandidate | null): void;
  setRestoreSet(set: string | null): void;
  setRestoreTyped(text: string): void;
  startRestore(): Promise<void>;
  /** After a restore: the same set onto another card, or back to Home. */
  restoreAnother(): void;
  finishRestore(): void;
}

export const createCloneSlice: StateCreator<Store, [], [], CloneSlice> = (set, get) => {
  const patch = (p: Partial<CloneState>) => set((s) => ({ clone: { ...s.clone, ...p } }));
  const planName = async (name: string) => {
    patch({ plan: await call('names:plan', { kind: 'clone-set', name }) });
  };
  return {
    clone: {
      card: null,
      tag: '',
      name: '',
      previous: null,
      plan: null,
      jobId: null,
      restoreCard: null,
      restoreSet: null,
      restoreTyped: '',
      restoreJobId: null,
      error: null,
      restoreError: null,
    },
    setCloneCard: (card) => patch({ card, jobId: null }),
    setCloneTag: async (tag) => {
      patch({ tag });
      try {
        const next = await call('names:next-set', tag);
        patch({ name: next.next, previous: next.previous, error: null });
        await planName(next.next);
      } catch (e) {
        // A tag that cannot name a set is a mistake in the tag field, shown under it.
        patch({ plan: { name: '', path: '', exists: false, error: errorInfo(e), field: 'tag' } });
      }
    },
    setCloneName: async (name) => {
      patch({ name });
      try {
        await planName(name);
      } catch (e) {
        patch({ error: errorInfo(e) });
      }
    },
    loadCloneDefaults: async () => {
      try {
        const s = await call('names:suggest');
        const tag = get().clone.tag || s.lastSetTag || 'FEATURE';
        await get().setCloneTag(tag);
      } catch (e) {
        patch({ error: errorInfo(e) });
      }
    },
    startClone: async () => {
      const { card, name } = get().clone;
      if (!card) return;
      const id = await get().startJob({ kind: 'clone', card: card.ref, name });
      patch({ jobId: id, error: id ? null : get().jobError });
    },
    setRestoreCard: (restoreCard) => patch({ restoreCard, restoreTyped: '', restoreJobId: null }),
    setRestoreTyped: (restoreTyped) => patch({ restoreTyped }),
    setRestoreSet: (restoreSet) => patch({ restoreSet, restoreJobId: null }),
    restoreAnother: () =>
      patch({ restoreCard: null, restoreTyped: '', restoreJobId: null, restoreError: null }),
    finishRestore: () => {
      get().restoreAnother();
      get().setScreen('home');
    },
    startRestore: async () => {
      const { restoreCard, restoreSet, restoreTyped } = get().clone;
      if (!restoreCard || !restoreSet) return;
      const confirmed = restoreCard.confirm !== undefined;
      if (confirmed && restoreTyped.trim() !== diskName(restoreCard.ref.path)) return;
      const id = await get().startJob({
        kind: 'restore',
        card: restoreCard.ref,
        set: restoreSet,
        ...(confirmed ? { confirmed: true } : {}),
      });
      patch({ restoreJobId: id, restoreError: id ? null : get().jobError });
    },
  };
};
