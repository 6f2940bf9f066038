// When resize2fs fails under shrink_image.sh, run for real as root on a provisioned card with a
// fault injected in front of the real resize2fs (test/doubles/faults): an aborted resize leaves the
// file system marked with errors, which the script checks away and retries; a size that cannot be
// read fails with the tool's own words, in the failure and in the log.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyFixture, fixture, removeScratch, ROOT, scratch } from '../helpers/fixtures.js';
import { e2fsckClean } from '../helpers/disk-tools.js';

const REAL = execFileSync('bash', ['-c', 'command -v resize2fs'], { encoding: 'utf8' }).trim();
const REAL_E2FSCK = execFileSync('bash', ['-c', 'command -v e2fsck'], { encoding: 'utf8' }).trim();

afterAll(() => removeScratch());

/** shrink_image.sh on a provisioned card with TOOL's fault double (test/doubles/faults) in front of the real one. */
function shrinkWithFault(
  name: string,
  fault: (dir: string) => string,
  tool: 'resize2fs' | 'e2fsck' = 'resize2fs',
) {
  const dir = scratch(name);
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  copyFileSync(join(ROOT, 'test', 'doubles', 'faults', tool), join(bin, tool));
  const img = copyFixture(fixture('provisioned'), dir, 'card.img');
  const before = statSync(img).size;
  const knobs =
    tool === 'resize2fs'
      ? { ATLAS_REAL_RESIZE2FS: REAL, ATLAS_RESIZE2FS_FAULT: fault(dir) }
      : { ATLAS_REAL_E2FSCK: REAL_E2FSCK, ATLAS_E2FSCK_FAULT: fault(dir) };
  const r = spawnSync('bash', [join(ROOT, 'lima', 'scripts', 'shrink_image.sh'), img], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, ...knobs },
  });
  return { ...r, img, before, dir };
}

describe('shrink_image.sh when resize2fs fails', () => {
  it('checks a file system an aborted resize left marked with errors, then shrinks it', () => {
    const r = shrinkWithFault('shrink-aborted', (dir) => `abort-first-shrink:${join(dir, 'aborted')}`);
    expect(existsSync(join(r.dir, 'aborted'))).toBe(true);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/resize2fs -M failed \(exit 1\): .*Memory allocation failed/);
    expect(r.stdout).toContain('@@ATLAS result shrink-retried');
    expect(statSync(r.img).size).toBeLessThan(r.before);
    expect(e2fsckClean(r.img).code).toBe(0);
  });

  it("fails with resize2fs's own words when the minimum size cannot be read", () => {
    const r = shrinkWithFault('shrink-busy', () => 'busy-min');
    expect(r.status).toBe(1);
    const fail = r.stdout.split('\n').find((l) => l.startsWith('@@ATLAS fail'));
    expect(fail).toMatch(/resize2fs -P, exit 1\): .*Device or resource busy while trying to open/);
    expect(r.stderr).toContain('Device or resource busy while trying to open');
  });
});

describe('shrink_image.sh when e2fsck cannot check the device', () => {
  it("says the device could not be checked, with e2fsck's words, not that the card is damaged", () => {
    // The second check, after the script's own mount for the resize service, as in CI.
    const r = shrinkWithFault('shrink-in-use', (dir) => `in-use-after:2:${join(dir, 'calls')}`, 'e2fsck');
    expect(r.status).toBe(1);
    const fail = r.stdout.split('\n').find((l) => l.startsWith('@@ATLAS fail'));
    expect(fail).toMatch(
      /e2fsck could not check the root file system \(after re-enabling the resize service, exit 8: .*is in use\. e2fsck: Cannot continue, aborting\.\): make sure nothing else uses/,
    );
    expect(fail).not.toMatch(/damaged/);
  });
});
