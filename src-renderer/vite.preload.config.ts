/**
 * Bundles the preload script into one CommonJS file (dist/preload/preload.cjs): a sandboxed
 * preload can require nothing but `electron`, so the contract and the bridge are bundled in.
 */
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

const root = resolve(import.meta.dirname, '..');

export default defineConfig({
  root,
  build: {
    outDir: resolve(root, 'dist', 'preload'),
    emptyOutDir: true,
    minify: false,
    sourcemap: true,
    lib: {
      entry: resolve(root, 'src-main', 'electron', 'preload.ts'),
      formats: ['cjs'],
      fileName: () => 'preload.cjs',
    },
    rollupOptions: { external: ['electron'] },
  },
});
