/** Where the project's own files are, whether running from source (tests) or from dist/. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      const name = (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name;
      if (name === 'atlas-imager') return dir;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the atlas-imager package root');
    dir = up;
  }
}

export const PACKAGE_ROOT = process.env.ATLAS_IMAGER_ROOT ?? findRoot();
export const SCRIPTS_DIR = join(PACKAGE_ROOT, 'lima', 'scripts');
export const RESOURCES_DIR = join(PACKAGE_ROOT, 'resources');
