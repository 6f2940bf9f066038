/** What is in the library (golden images, clone sets, clone images) and where copies are. */
import type { StateCreator } from 'zustand';
import type { DeleteTicket, ErrorInfo, LibraryView } from '../../src-main/common/contract';
import { call, errorInfo } from '../api/client';
import type { Store } from './store';

export interface LibrarySlice {
  library: LibraryView | null;
  libraryError: ErrorInfo | null;
  /** The delete waiting for the user's confirmation. */
  deleteTicket: DeleteTicket | null;
  /** Archive and stage jobs started from the library. */
  libraryJobIds: string[];
  refreshLibrary(): Promise<void>;
  startLibraryJob(kind: 'archive' | 'stage' | 'adopt', path: string): Promise<void>;
  chooseArchiveDir(): Promise<void>;
  reveal(path: string): Promise<void>;
  askDelete(path: string): Promise<void>;
  confirmDelete(): Promise<void>;
  cancelDelete(): void;
}

export const createLibrarySlice: StateCreator<Store, [], [], LibrarySlice> = (set, get) => ({
  library: null,
  libraryError: null,
  deleteTicket: null,
  libraryJobIds: [],
  startLibraryJob: async (kind, path) => {
    const id = await get().startJob({ kind, path });
    if (id) set((s) => ({ libraryJobIds: [id, ...s.libraryJobIds] }));
    else set({ libraryError: get().jobError });
  },
  chooseArchiveDir: async () => {
    try {
      const dir = await call('dialog:open-folder', 'archive');
      if (!dir) return;
      await get().saveSettings({ archiveDir: dir });
      await get().refreshLibrary();
    } catch (e) {
      set({ libraryError: errorInfo(e) });
    }
  },
  refreshLibrary: async () => {
    try {
      set({ library: await call('library:list'), libraryError: null });
    } catch (e) {
      set({ libraryError: errorInfo(e) });
    }
  },
  reveal: async (path) => {
    try {
      await call('library:reveal', path);
    } catch (e) {
      set({ libraryError: errorInfo(e) });
    }
  },
  askDelete: async (path) => {
    try {
      set({ deleteTicket: await call('library:delete-request', path), libraryError: null });
    } catch (e) {
      set({ libraryError: errorInfo(e) });
    }
  },
  confirmDelete: async () => {
    const ticket = get().deleteTicket;
    if (!ticket) return;
    set({ deleteTicket: null });
    try {
      await call('library:delete', ticket.path, ticket.token);
      await get().refreshLibrary();
    } catch (e) {
      set({ libraryError: errorInfo(e) });
    }
  },
  cancelDelete: () => set({ deleteTicket: null }),
});
