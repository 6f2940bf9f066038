/**
 * Bundles the raw-disk helper into one ES module (dist/privileged/raw-disk-helper.mjs). The packaged
 * app starts it from app.asar.unpacked, outside the asar archive, where neither the rest of dist/
 * nor node_modules can be reached: so the core modules and execa are bundled in. Only Node's own
 * modules and drivelist (a native addon, unpacked with its node_modules folder) stay imports. Not
 * minified, so what runs as root can be read.
 */
import { builtinModules } from 'node:module';
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

const root = resolve(import.meta.dirname, '..', '..');
const builtins = new Set(builtinModules);

export default defineConfig({
  root,
  publicDir: false,
  logLevel: 'warn',
  build: {
    ssr: resolve(root, 'src-main', 'privileged', 'raw-disk-helper.ts'),
    outDir: resolve(root, 'dist', 'privileged'),
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    sourcemap: true,
    copyPublicDir: false,
    rollupOptions: {
      external: (id) => id.startsWith('node:') || builtins.has(id) || id === 'drivelist',
      output: {
        format: 'es',
        entryFileNames: 'raw-disk-helper.mjs',
        banner: '// The Atlas Imager raw-disk helper, bundled from src-main/privileged/raw-disk-helper.ts.',
      },
    },
  },
  // An SSR build leaves node_modules packages as imports by default: bundle every one but drivelist.
  ssr: { target: 'node', noExternal: true, external: ['drivelist'] },
});
