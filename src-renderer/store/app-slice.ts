/** The app itself: where it runs (info), the user's settings, and which screen is shown. */
import type { StateCreator } from 'zustand';
import type { AppInfo, ErrorInfo, Screen, Settings, SettingsPatch } from '../../src-main/common/contract';
import { call, errorInfo } from '../api/client';
import type { Store } from './store';

export interface AppSlice {
  info: AppInfo | null;
  settings: Settings | null;
  screen: Screen;
  /** An error that is not tied to one screen's job (a failed request). */
  appError: ErrorInfo | null;
  setScreen(screen: Screen): void;
  loadApp(): Promise<void>;
  saveSettings(patch: SettingsPatch): Promise<void>;
  setAppError(error: ErrorInfo | null): void;
}

export const createAppSlice: StateCreator<Store, [], [], AppSlice> = (set) => ({
  info: null,
  settings: null,
  screen: 'home',
  appError: null,
  setScreen: (screen) => set({ screen }),
  loadApp: async () => {
    try {
      const [info, settings] = await Promise.all([call('app:info'), call('settings:get')]);
      set({ info, settings });
    } catch (e) {
      set({ appError: errorInfo(e) });
    }
  },
  saveSettings: async (patch) => {
    try {
      set({ settings: await call('settings:set', patch) });
    } catch (e) {
      set({ appError: errorInfo(e) });
    }
  },
  setAppError: (appError) => set({ appError }),
});
