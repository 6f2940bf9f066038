/**
 * Backend events applied to the store from outside React: job events, library changes, the
 * menu's navigation. Returns a function that disconnects everything.
 */
import { on } from '../api/client';
import { useStore } from './store';

export function connectEvents(): () => void {
  const offs = [
    on('jobs:event', (e) => useStore.getState().applyJobEvent(e)),
    on('library:changed', () => void useStore.getState().refreshLibrary()),
    on('menu:navigate', ({ screen }) => useStore.getState().setScreen(screen)),
  ];
  return () => offs.forEach((off) => off());
}
