/** The build VM (atlas-build on a Mac; none needed on a Linux build host): status, doctor, jobs. */
import type { StateCreator } from 'zustand';
import type { DoctorReportDto, ErrorInfo, VmStatusDto } from '../../src-main/ipc/contract';
import { call, errorInfo } from '../api/client';
import type { Store } from './store';

export interface VmState {
  status: VmStatusDto | null;
  doctor: DoctorReportDto | null;
  jobId: string | null;
  error: ErrorInfo | null;
}

export interface VmSlice {
  vm: VmState;
  refreshVm(): Promise<void>;
  runDoctor(): Promise<void>;
  startVmJob(kind: 'vm-setup' | 'vm-start' | 'vm-stop'): Promise<void>;
}

export const createVmSlice: StateCreator<Store, [], [], VmSlice> = (set, get) => {
  const patch = (p: Partial<VmState>) => set((s) => ({ vm: { ...s.vm, ...p } }));
  return {
    vm: { status: null, doctor: null, jobId: null, error: null },
    refreshVm: async () => {
      try {
        patch({ status: await call('vm:status'), error: null });
      } catch (e) {
        patch({ error: errorInfo(e) });
      }
    },
    runDoctor: async () => {
      try {
        // What the doctor finds about the VM and its status line must agree.
        const [doctor, status] = await Promise.all([call('vm:doctor'), call('vm:status')]);
        patch({ doctor, status, error: null });
      } catch (e) {
        patch({ error: errorInfo(e) });
      }
    },
    startVmJob: async (kind) => {
      const id = await get().startJob({ kind });
      patch({ jobId: id, error: id ? null : get().jobError });
    },
  };
};
