/** Between component tests: unmount what was rendered and put the store back to its first state. */
import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';
import { resetStore } from '../../src-renderer/store/store';
import { connectEvents } from '../../src-renderer/store/events';

let disconnect: (() => void) | undefined;

/** Connects the store to the fake's events, as main.tsx does at start-up. */
export function connect(): void {
  disconnect = connectEvents();
}

afterEach(() => {
  cleanup();
  disconnect?.();
  disconnect = undefined;
  resetStore();
  if (typeof window !== 'undefined') window.localStorage.clear();
});
