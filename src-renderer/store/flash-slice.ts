/**
 * Flash: one image onto one or more cards. The host layer's safety check runs for every chosen
 * card and its reasons are shown; only usable cards are written, all by one job in which one
 * failing card does not stop the others.
 */
import type { StateCreator } from 'zustand';
import type { CardCandidate, ErrorInfo, FlashCheck } from '../../src-main/common/contract';
import { call, errorInfo } from '../api/client';
import type { Store } from './store';
import { remember, remembered } from '../lib/remember';

const LAST_IMAGE = 'flash.image';

export interface FlashState {
  image: string | null;
  /** The ticked cards: never one the safety check refused. */
  targets: CardCandidate[];
  /** The safety check of the ticked cards, and of the ones it refused (unticked, with why). */
  checks: FlashCheck[];
  verify: boolean;
  /** What the user typed to confirm an unusual disk, by card path. */
  typed: Record<string, string>;
  jobId: string | null;
  error: ErrorInfo | null;
  /** Erase: the card to put back to one FAT32 partition, the name typed for an unusual disk. */
  eraseCard: CardCandidate | null;
  eraseTyped: string;
  eraseJobId: string | null;
  eraseError: ErrorInfo | null;
}

/** The name the user types to confirm an unusual disk: `disk4`, `sdc`. */
export const diskName = (path: string) => path.split('/').pop() ?? path;

/** The cards the flash writes: usable, and confirmed by name where they need it. */
export function flashReady(state: FlashState): FlashCheck[] {
  return state.checks.filter(
    (c) => c.usable && (!c.confirm || state.typed[c.card.path]?.trim() === diskName(c.card.path)),
  );
}

export interface FlashSlice {
  flash: FlashState;
  setFlashImage(path: string | null): Promise<void>;
  /** The image flashed last time, when none is chosen yet. */
  restoreFlashImage(): Promise<void>;
  pickFlashImage(): Promise<void>;
  toggleFlashTarget(card: CardCandidate): Promise<void>;
  setFlashVerify(verify: boolean): void;
  setFlashTyped(path: string, text: string): void;
  checkFlash(): Promise<void>;
  startFlash(): Promise<void>;
  /** After a flash: the same image onto new cards. */
  flashAnother(): void;
  /** After a flash: back to Home. */
  finishFlash(): void;
  /** After an erase: another card, or back to Home. */
  eraseAnother(): void;
  finishErase(): void;
  setEraseCard(card: CardCandidate | null): void;
  setEraseTyped(text: string): void;
  startErase(): Promise<void>;
}

/** The card can be erased: usable, and its name typed when it is an unusual disk. */
export function eraseReady(state: FlashState): boolean {
  const c = state.eraseCard;
  return !!c?.usable && (!c.confirm || state.eraseTyped.trim() === diskName(c.ref.path));
}

export const createFlashSlice: StateCreator<Store, [], [], FlashSlice> = (set, get) => {
  const patch = (p: Partial<FlashState>) => set((s) => ({ flash: { ...s.flash, ...p } }));
  return {
    flash: {
      image: null,
      targets: [],
      checks: [],
      verify: true,
      typed: {},
      jobId: null,
      error: null,
      eraseCard: null,
      eraseTyped: '',
      eraseJobId: null,
      eraseError: null,
    },
    flashAnother: () => patch({ targets: [], checks: [], typed: {}, jobId: null, error: null }),
    finishFlash: () => {
      get().flashAnother();
      get().setScreen('home');
    },
    eraseAnother: () => patch({ eraseCard: null, eraseTyped: '', eraseJobId: null, eraseError: null }),
    finishErase: () => {
      get().eraseAnother();
      get().setScreen('home');
    },
    setEraseCard: (eraseCard) => patch({ eraseCard, eraseTyped: '', eraseJobId: null }),
    setEraseTyped: (eraseTyped) => patch({ eraseTyped }),
    startErase: async () => {
      const state = get().flash;
      if (!state.eraseCard || !eraseReady(state)) return;
      const confirmed = state.eraseCard.confirm !== undefined;
      const id = await get().startJob({
        kind: 'erase',
        card: state.eraseCard.ref,
        ...(confirmed ? { confirmed: true } : {}),
      });
      patch({ eraseJobId: id, eraseError: id ? null : get().jobError });
    },
    setFlashImage: async (image) => {
      // What the check refused was about the other image.
      patch({ image, jobId: null, checks: [] });
      remember(LAST_IMAGE, image);
      await get().checkFlash();
    },
    restoreFlashImage: async () => {
      const last = remembered(LAST_IMAGE);
      if (last && !get().flash.image) await get().setFlashImage(last);
    },
    pickFlashImage: async () => {
      try {
        const path = await call('dialog:open-file', 'image');
        if (path) await get().setFlashImage(path);
      } catch (e) {
        patch({ error: errorInfo(e) });
      }
    },
    toggleFlashTarget: async (card) => {
      const { targets, checks } = get().flash;
      const chosen = targets.some((t) => t.ref.path === card.ref.path);
      patch({
        targets: chosen ? targets.filter((t) => t.ref.path !== card.ref.path) : [...targets, card],
        checks: checks.filter((c) => c.card.path !== card.ref.path),
      });
      await get().checkFlash();
    },
    setFlashVerify: (verify) => patch({ verify }),
    setFlashTyped: (path, text) => patch({ typed: { ...get().flash.typed, [path]: text } }),
    checkFlash: async () => {
      const { image, targets, checks: before } = get().flash;
      // The refused cards stay shown with their reasons until they are ticked again.
      const refusedBefore = before.filter(
        (c) => !c.usable && !targets.some((t) => t.ref.path === c.card.path),
      );
      if (!image || targets.length === 0) return patch({ checks: image ? refusedBefore : [] });
      try {
        const checks = await call(
          'flash:check',
          image,
          targets.map((t) => t.ref),
        );
        const refused = new Set(checks.filter((c) => !c.usable).map((c) => c.card.path));
        // A card ticked or unticked while the check ran keeps what the user did last.
        const now = get().flash.targets;
        patch({
          targets: now.filter((t) => !refused.has(t.ref.path)),
          checks: [
            ...refusedBefore.filter((c) => !checks.some((x) => x.card.path === c.card.path)),
            ...checks.filter((c) => now.some((t) => t.ref.path === c.card.path)),
          ],
          error: null,
        });
      } catch (e) {
        patch({ error: errorInfo(e) });
      }
    },
    startFlash: async () => {
      const { image, verify } = get().flash;
      const ready = flashReady(get().flash);
      const cards = ready.map((x) => x.card);
      if (!image || cards.length === 0) return;
      const confirmed = ready.filter((x) => x.confirm).map((x) => x.card.path);
      const id = await get().startJob({
        kind: 'flash',
        image,
        cards,
        verify,
        ...(confirmed.length ? { confirmed } : {}),
      });
      patch({ jobId: id, error: id ? null : get().jobError });
    },
  };
};
