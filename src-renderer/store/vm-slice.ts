/** The build VM (atlas-build on a Mac; none needed on a Linux build host): status, doctor, jobs. */
import type { StateCreator } from 'zustand';
import type {
  DoctorReportDto,
  ErrorInfo,
  VmRecreatePreview,
  VmStatusDto,
} from '../../src-main/common/contract';
import { call, errorInfo } from '../api/client';
import type { Store } from './store';

export interface VmState {
  status: VmStatusDto | null;
  doctor: DoctorReportDto | null;
  /** The doctor was asked for: its findings are kept current (a VM job that ends checks again). */
  doctorAsked: boolean;
  jobId: string | null;
  error: ErrorInfo | null;
  /** What recreating the VM would delete, while the confirmation asks (null: not asking). */
  recreate: { preview: VmRecreatePreview | null; error: ErrorInfo | null } | null;
}

export interface VmSlice {
  vm: VmState;
  refreshVm(): Promise<void>;
  runDoctor(): Promise<void>;
  startVmJob(kind: 'vm-setup' | 'vm-start' | 'vm-stop' | 'vm-upgrade'): Promise<void>;
  /** Opens the recreate confirmation with what would be lost (nothing is changed yet). */
  askRecreate(): Promise<void>;
  cancelRecreate(): void;
  /** The user confirmed: the VM is deleted and created again from the template. */
  confirmRecreate(importSecrets: boolean): Promise<void>;
}

export const createVmSlice: StateCreator<Store, [], [], VmSlice> = (set, get) => {
  const patch = (p: Partial<VmState>) => set((s) => ({ vm: { ...s.vm, ...p } }));
  // Requests overlap (a job's start and end both ask): only the newest answer of each kind is
  // shown, so a slow answer from before a job ended never overwrites what the VM is now.
  const asked = { status: 0, doctor: 0 };
  const shown = { status: 0, doctor: 0 };
  const ticket = (kind: keyof typeof asked) => ++asked[kind];
  const newest = (kind: keyof typeof asked, t: number) => {
    if (t < shown[kind]) return false;
    shown[kind] = t;
    return true;
  };
  return {
    vm: { status: null, doctor: null, doctorAsked: false, jobId: null, error: null, recreate: null },
    refreshVm: async () => {
      const t = ticket('status');
      try {
        const status = await call('vm:status');
        if (newest('status', t)) patch({ status, error: null });
      } catch (e) {
        if (newest('status', t)) patch({ error: errorInfo(e) });
      }
    },
    runDoctor: async () => {
      patch({ doctorAsked: true });
      const t = { doctor: ticket('doctor'), status: ticket('status') };
      try {
        // What the doctor finds about the VM and its status line must agree.
        const [doctor, status] = await Promise.all([call('vm:doctor'), call('vm:status')]);
        const p: Partial<VmState> = { error: null };
        if (newest('doctor', t.doctor)) p.doctor = doctor;
        if (newest('status', t.status)) p.status = status;
        patch(p);
      } catch (e) {
        if (newest('doctor', t.doctor)) patch({ error: errorInfo(e) });
      }
    },
    startVmJob: async (kind) => {
      const id = await get().startJob({ kind });
      patch({ jobId: id, error: id ? null : get().jobError });
    },
    askRecreate: async () => {
      patch({ recreate: { preview: null, error: null } });
      try {
        const preview = await call('vm:recreate-preview');
        if (get().vm.recreate) patch({ recreate: { preview, error: null } });
      } catch (e) {
        if (get().vm.recreate) patch({ recreate: { preview: null, error: errorInfo(e) } });
      }
    },
    cancelRecreate: () => patch({ recreate: null }),
    confirmRecreate: async (importSecrets) => {
      patch({ recreate: null });
      const id = await get().startJob({ kind: 'vm-recreate', importSecrets });
      patch({ jobId: id, error: id ? null : get().jobError });
    },
  };
};
