/**
 * The Insert wizard (Phase 0): the base image (dropped or picked) and what the inspection says
 * it is, the payload checkout, atlas_secrets.conf (imported once, kept encrypted by main), version
 * and tag with the output name shown before building, and the build job.
 */
import type { StateCreator } from 'zustand';
import type { ErrorInfo, OutputPlan, PayloadStatus, SecretsStatus } from '../../src-main/common/contract';
import { call, errorInfo } from '../api/client';
import type { Store } from './store';

export interface InsertState {
  base: string | null;
  inspectJobId: string | null;
  payload: PayloadStatus | null;
  secrets: SecretsStatus | null;
  version: string;
  tag: string;
  plan: OutputPlan | null;
  buildJobId: string | null;
  error: ErrorInfo | null;
}

export interface InsertSlice {
  insert: InsertState;
  setBase(path: string): Promise<void>;
  pickBase(): Promise<void>;
  choosePayload(): Promise<void>;
  checkPayload(): Promise<void>;
  /** Picks atlas_secrets.conf and has main encrypt it into the app's store. */
  importSecrets(): Promise<void>;
  forgetSecrets(): Promise<void>;
  setInsertName(field: 'version' | 'tag', value: string): Promise<void>;
  /** Shows the output name again (after the library changed: it may exist now). */
  planInsert(): Promise<void>;
  loadInsertDefaults(): Promise<void>;
  buildGolden(): Promise<void>;
}

const initial: InsertState = {
  base: null,
  inspectJobId: null,
  payload: null,
  secrets: null,
  version: '',
  tag: '',
  plan: null,
  buildJobId: null,
  error: null,
};

export const createInsertSlice: StateCreator<Store, [], [], InsertSlice> = (set, get) => {
  const patch = (p: Partial<InsertState>) => set((s) => ({ insert: { ...s.insert, ...p } }));
  const plan = async () => {
    const { version, tag } = get().insert;
    patch({ plan: await call('names:plan', { kind: 'golden-image', version, tag }) });
  };
  return {
    insert: initial,
    setBase: async (path) => {
      patch({ base: path, inspectJobId: null, buildJobId: null, error: null });
      const id = await get().startJob({ kind: 'inspect', path });
      patch({ inspectJobId: id, error: id ? null : get().jobError });
    },
    pickBase: async () => {
      try {
        const path = await call('dialog:open-file', 'base-image');
        if (path) await get().setBase(path);
      } catch (e) {
        patch({ error: errorInfo(e) });
      }
    },
    choosePayload: async () => {
      try {
        const dir = await call('dialog:open-folder', 'payload');
        if (!dir) return;
        await get().saveSettings({ payloadDir: dir });
        await get().checkPayload();
      } catch (e) {
        patch({ error: errorInfo(e) });
      }
    },
    checkPayload: async () => {
      const dir = get().settings?.payloadDir;
      try {
        patch({ secrets: await call('secrets:status') });
        patch({ payload: dir ? await call('payload:check', dir) : null, error: null });
      } catch (e) {
        patch({ error: errorInfo(e) });
      }
    },
    importSecrets: async () => {
      try {
        const file = await call('dialog:open-file', 'secrets');
        if (!file) return;
        patch({ secrets: await call('secrets:import', file), error: null });
        await get().checkPayload();
      } catch (e) {
        patch({ error: errorInfo(e) });
      }
    },
    forgetSecrets: async () => {
      try {
        patch({ secrets: await call('secrets:forget'), error: null });
        await get().checkPayload();
      } catch (e) {
        patch({ error: errorInfo(e) });
      }
    },
    setInsertName: async (field, value) => {
      patch({ [field]: value });
      try {
        await plan();
      } catch (e) {
        patch({ error: errorInfo(e) });
      }
    },
    planInsert: async () => {
      try {
        await plan();
      } catch (e) {
        patch({ error: errorInfo(e) });
      }
    },
    loadInsertDefaults: async () => {
      if (get().insert.version) return;
      try {
        const s = await call('names:suggest');
        patch({ version: s.golden.version, tag: s.golden.tag });
        await plan();
      } catch (e) {
        patch({ error: errorInfo(e) });
      }
    },
    buildGolden: async () => {
      const { base, payload, version, tag } = get().insert;
      if (!base || !payload?.payloadDir) return;
      const id = await get().startJob({ kind: 'insert', base, payload: payload.payloadDir, version, tag });
      patch({ buildJobId: id, error: id ? null : get().jobError });
    },
  };
};
