/**
 * Verify + Shrink (Phase 2): the checklist on a card after Phase 1, shown as ticks and crosses
 * with evidence, then the shrink to ods-atlas-clone-vN-P-TAG.img, or to a compressed
 * distributable (.img.xz / .img.zst with its .bmap and .sha256).
 */
import type { StateCreator } from 'zustand';
import type {
  CardCandidate,
  DistCompressionDto,
  ErrorInfo,
  OutputPlan,
} from '../../src-main/common/contract';
import { call, errorInfo } from '../api/client';
import type { Store } from './store';

export interface ShrinkState {
  card: CardCandidate | null;
  verifyJobId: string | null;
  version: string;
  tag: string;
  plan: OutputPlan | null;
  force: boolean;
  /** 'none': the plain .img; else a compressed distributable. */
  compress: 'none' | DistCompressionDto;
  shrinkJobId: string | null;
  error: ErrorInfo | null;
}

export interface ShrinkSlice {
  shrink: ShrinkState;
  setShrinkCard(card: CardCandidate | null): Promise<void>;
  setShrinkName(field: 'version' | 'tag', value: string): Promise<void>;
  /** Shows the output name again (after the library changed: it may exist now). */
  planShrink(): Promise<void>;
  setShrinkForce(force: boolean): void;
  setShrinkCompress(compress: 'none' | DistCompressionDto): Promise<void>;
  loadShrinkDefaults(): Promise<void>;
  startVerify(): Promise<void>;
  startShrink(): Promise<void>;
  /** Changes a count check's threshold in the library's own checklist, then verifies again. */
  setCheckThreshold(id: string, min: number): Promise<void>;
}

export const createShrinkSlice: StateCreator<Store, [], [], ShrinkSlice> = (set, get) => {
  const patch = (p: Partial<ShrinkState>) => set((s) => ({ shrink: { ...s.shrink, ...p } }));
  const plan = async () => {
    const { version, tag, compress } = get().shrink;
    patch({
      plan: await call('names:plan', {
        kind: 'clone-image',
        version,
        tag,
        ...(compress !== 'none' ? { compress } : {}),
      }),
    });
  };
  return {
    shrink: {
      card: null,
      verifyJobId: null,
      version: '',
      tag: '',
      plan: null,
      force: false,
      compress: 'none',
      shrinkJobId: null,
      error: null,
    },
    setShrinkCard: async (card) => {
      patch({ card, verifyJobId: null, shrinkJobId: null });
      if (card) await get().startVerify();
    },
    setShrinkName: async (field, value) => {
      patch({ [field]: value });
      try {
        await plan();
      } catch (e) {
        patch({ error: errorInfo(e) });
      }
    },
    planShrink: async () => {
      try {
        await plan();
      } catch (e) {
        patch({ error: errorInfo(e) });
      }
    },
    setShrinkForce: (force) => patch({ force }),
    setShrinkCompress: async (compress) => {
      patch({ compress });
      try {
        await plan();
      } catch (e) {
        patch({ error: errorInfo(e) });
      }
    },
    loadShrinkDefaults: async () => {
      if (get().shrink.version) return;
      try {
        const s = await call('names:suggest');
        patch({ version: s.cloneImage.version, tag: s.cloneImage.tag });
        await plan();
      } catch (e) {
        patch({ error: errorInfo(e) });
      }
    },
    startVerify: async () => {
      const card = get().shrink.card;
      if (!card) return;
      const id = await get().startJob({ kind: 'verify', card: card.ref.path });
      patch({ verifyJobId: id, error: id ? null : get().jobError });
    },
    startShrink: async () => {
      const { card, version, tag, force, compress } = get().shrink;
      if (!card) return;
      const id = await get().startJob({
        kind: 'shrink',
        card: card.ref.path,
        version,
        tag,
        force,
        ...(compress !== 'none' ? { compress } : {}),
      });
      patch({ shrinkJobId: id, error: id ? null : get().jobError });
    },
    setCheckThreshold: async (id, min) => {
      try {
        await call('checklist:set-threshold', { id, min });
      } catch (e) {
        patch({ error: errorInfo(e) });
        return;
      }
      await get().startVerify();
    },
  };
};
