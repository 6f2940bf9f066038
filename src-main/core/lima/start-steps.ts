/**
 * The named steps of setting up and starting the atlas-build VM, as the app and the CLI show
 * them (the way Rancher Desktop shows its start), and which line of `limactl start` begins each.
 *
 * What limactl prints, and where it comes from (lima-vm/lima v2.2):
 *   - "Attempting to download the image" (pkg/fileutils/download.go), only on the first start,
 *     when the instance has no base disk yet (pkg/instance/start.go Prepare);
 *   - "[hostagent] Starting VZ|QEMU …": the host agent boots the VM (relayed with the prefix);
 *   - "[hostagent] Waiting for the essential requirement N of M: …": ssh, the user session, the
 *     ssh ControlMaster (pkg/hostagent/requirements.go);
 *   - "… optional requirement …" (the template's readiness probes) and "… final requirement …:
 *     "boot scripts must have finished"": the provision scripts run as boot scripts, so this is
 *     where the disk tools are installed.
 * The last step is ours: tool_versions.sh run in the VM through the builder.
 */
export interface VmStep {
  id: string;
  label: string;
}

export const VM_STEPS = {
  create: { id: 'vm-create', label: 'Create the VM from lima/atlas-build.yaml' },
  download: { id: 'vm-download', label: 'Download the Debian image' },
  boot: { id: 'vm-boot', label: 'Boot the VM' },
  connect: { id: 'vm-connect', label: 'Connect over ssh' },
  provision: { id: 'vm-provision', label: 'Provision: install the disk tools' },
  probe: { id: 'vm-probe', label: 'Check the disk tools in the VM' },
} as const satisfies Record<string, VmStep>;

/** `ods-sd vm setup` and the app's one-click setup. */
export const SETUP_PLAN: readonly VmStep[] = [
  VM_STEPS.create,
  VM_STEPS.download,
  VM_STEPS.boot,
  VM_STEPS.connect,
  VM_STEPS.provision,
  VM_STEPS.probe,
];

/** Starting (or repairing) a VM that exists: its image is there already. */
export const START_PLAN: readonly VmStep[] = [
  VM_STEPS.boot,
  VM_STEPS.connect,
  VM_STEPS.provision,
  VM_STEPS.probe,
];

const BEGINS: ReadonlyArray<[RegExp, VmStep]> = [
  [/^Attempting to download the image\b/, VM_STEPS.download],
  [/^\[hostagent\] Starting [A-Z0-9]+\b/, VM_STEPS.boot],
  [/^\[hostagent\] Waiting for the essential requirement \d+ of \d+/, VM_STEPS.connect],
  [/^\[hostagent\] Waiting for the (optional|final) requirement \d+ of \d+/, VM_STEPS.provision],
];

/** The step a message of `limactl start` begins (undefined for every other line). */
export function startStepOf(msg: string): VmStep | undefined {
  return BEGINS.find(([re]) => re.test(msg))?.[1];
}
