/**
 * Builds the renderer into dist/renderer: relative asset paths (served from atlas://app/), no
 * inline scripts, and the Content-Security-Policy meta tag from the one CSP definition.
 */
import { resolve } from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { CSP } from '../src-main/electron/csp.ts';

const root = import.meta.dirname;

function cspMetaTag(): Plugin {
  return {
    name: 'atlas-csp',
    transformIndexHtml: (html) =>
      html.replace(
        '<meta charset="UTF-8" />',
        `<meta charset="UTF-8" />\n    <meta http-equiv="Content-Security-Policy" content="${CSP}" />`,
      ),
  };
}

export default defineConfig({
  root,
  base: './',
  plugins: [react(), cspMetaTag()],
  build: {
    outDir: resolve(root, '..', 'dist', 'renderer'),
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: true,
    chunkSizeWarningLimit: 1500,
  },
});
