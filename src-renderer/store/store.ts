/**
 * The renderer's one store, built from slices (zustand's slices pattern). Components read it with
 * atomic selectors; backend events are applied from outside React (events.ts).
 */
import { create } from 'zustand';
import { createAppSlice, type AppSlice } from './app-slice';
import { createCardsSlice, type CardsSlice } from './cards-slice';
import { createCloneSlice, type CloneSlice } from './clone-slice';
import { createFlashSlice, type FlashSlice } from './flash-slice';
import { createInsertSlice, type InsertSlice } from './insert-slice';
import { createJobsSlice, type JobsSlice } from './jobs-slice';
import { createLibrarySlice, type LibrarySlice } from './library-slice';
import { createShrinkSlice, type ShrinkSlice } from './shrink-slice';
import { createVmSlice, type VmSlice } from './vm-slice';

export type Store = AppSlice &
  LibrarySlice &
  JobsSlice &
  CardsSlice &
  InsertSlice &
  FlashSlice &
  CloneSlice &
  ShrinkSlice &
  VmSlice;

export const useStore = create<Store>()((...a) => ({
  ...createAppSlice(...a),
  ...createLibrarySlice(...a),
  ...createJobsSlice(...a),
  ...createCardsSlice(...a),
  ...createInsertSlice(...a),
  ...createFlashSlice(...a),
  ...createCloneSlice(...a),
  ...createShrinkSlice(...a),
  ...createVmSlice(...a),
}));

const initialState = useStore.getState();

/** Back to the first state (tests reset the store between cases). */
export function resetStore(): void {
  useStore.setState(initialState, true);
}
