/**
 * Five lanes (test/run-lanes.mjs runs them side by side, as npm test does):
 *   disk  integration and end-to-end tests: real disk tools on loop devices and card images, one
 *         file at a time;
 *   disk2 the same kind, the phases that write and shrink cards (DISK2): the two disk lanes share
 *         loop devices through losetup's own allocation, and every test names its own cards;
 *   unit  pure unit and component tests: no root, no Linux tool (a stock Mac's PATH), files side
 *         by side; `npm run test:unit` on a Mac;
 *   tools unit tests that build small images or run Linux tools (TOOLS), files side by side: none
 *         holds a loop device for long;
 *   vm    the Mac path against a real builder VM (test/vm: a Debian guest in QEMU), which mostly
 *         waits on the guest.
 * `vitest run --project NAME` runs one lane (npm run test:vm is the vm lane); a plain `vitest run`
 * runs them one after the other.
 */
import { defineConfig } from 'vitest/config';

const REAL_VM = 'test/integration/lima-real-vm.test.ts';

/** The second disk lane: the phases that write and shrink cards (about half of the disk lane's time). */
const DISK2 = [
  'write-pipeline',
  'shrink-verify',
  'clone-restore',
  'shrink-dist',
  'image-paths',
  'flash',
  'flash-smaller',
  'flash-not-an-image',
  'erase',
  'restore-smaller',
  'restore-fsck',
  'restore-received-set',
  'clone-compression',
  'clone-layout',
  'shrink-fat',
  'shrink-tool-failures',
  'ods-sd-sets',
  'plymouth-one-file',
  'verify-card-link',
].map((n) => `test/integration/${n}.test.ts`);

const UNIT = ['test/unit/**/*.test.ts', 'test/renderer/**/*.test.{ts,tsx}'];

/**
 * Unit tests that need root or Linux tools (they build images with mkfs, sfdisk, xz or zstd, attach
 * loop devices, run the limactl double or the guest's scripts). The others form the pure unit lane,
 * which runs on a Mac too (test/setup-pure.ts gives it a stock Mac's PATH, so a test that starts
 * a Linux tool fails there).
 */
const TOOLS = [
  'bmap-one-pass',
  'compress-image-script',
  'compression-in-process',
  'compression-limits',
  'drive-list',
  'ipc-vm-terminal',
  'lima-atlas-run',
  'mac-raw-disk-io',
  'partclone-head',
  'partclone-image',
  'read-used-partclone',
  'clone-one-pass',
  'partition-dump',
  'used-blocks-bmap',
  'used-blocks-card-map',
  'used-blocks-ext4',
  'used-blocks-fat',
  'used-blocks-geometry',
  'used-blocks-partition-table',
  'used-blocks-reader',
  'write-source-once',
].map((n) => `test/unit/${n}.test.ts`);

const shared = {
  setupFiles: ['test/setup-scratch.ts'],
  // A minute, so that a hang shows in a minute: a test that needs longer on a busy 2-core CI
  // machine (real disk tools on card images) says so itself ({ timeout: 300_000 }); hooks build
  // fixtures, some of them large.
  testTimeout: 60_000,
  hookTimeout: 300_000,
  // The app's screens refresh from real tools (limactl, losetup): on a loaded machine that can take
  // longer than expect.poll's default second.
  expect: { poll: { timeout: 30_000, interval: 100 } },
  // Within a lane, files share loop devices and the fixture cache: one file at a time.
  fileParallelism: false,
};

export default defineConfig({
  test: {
    reporters: ['default', 'json'],
    outputFile: { json: 'test-output/vitest.json' },
    projects: [
      {
        test: {
          ...shared,
          name: 'disk',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          exclude: ['**/node_modules/**', REAL_VM, ...DISK2],
        },
      },
      { test: { ...shared, name: 'disk2', include: DISK2 } },
      {
        test: {
          ...shared,
          name: 'unit',
          include: UNIT,
          exclude: ['**/node_modules/**', ...TOOLS],
          setupFiles: [...shared.setupFiles, 'test/setup-pure.ts'],
          fileParallelism: true,
        },
      },
      { test: { ...shared, name: 'tools', include: TOOLS, fileParallelism: true } },
      // Each test there waits on a guest under TCG (emulated CPUs): minutes, not seconds.
      { test: { ...shared, name: 'vm', include: [REAL_VM], testTimeout: 600_000, hookTimeout: 900_000 } },
    ],
  },
});
