// An image as a .img.zst whose first MiBs decode at a card reader's pace, through the zstd fault
// double (test/doubles/faults/zstd) put first in PATH: a flash of it lasts seconds, not the 50 ms
// a small plain image takes, so a test can stop or kill it while it writes.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './fixtures.js';

/** Compresses `image` to `zst`; the environment whose zstd decodes its first `slowMiB` MiB slowly. */
export function slowZstdImage(
  image: string,
  zst: string,
  dir: string,
  slowMiB = 32,
): { zst: string; env: NodeJS.ProcessEnv } {
  execFileSync('zstd', ['-1', '-T2', '-q', '-f', '-o', zst, image]);
  const bin = join(dir, 'slow-bin');
  mkdirSync(bin, { recursive: true });
  copyFileSync(join(ROOT, 'test', 'doubles', 'faults', 'zstd'), join(bin, 'zstd'));
  const real = execFileSync('sh', ['-c', 'command -v zstd'], { encoding: 'utf8' }).trim();
  return {
    zst,
    env: {
      ...process.env,
      PATH: `${bin}:${process.env.PATH ?? ''}`,
      ATLAS_REAL_ZSTD: real,
      ATLAS_ZSTD_SLOW_MIB: String(slowMiB),
    },
  };
}
