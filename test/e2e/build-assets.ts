/**
 * Builds what the end-to-end run loads, fresh for every run: the renderer (with the app's own
 * vite config, into test-output/e2e/renderer) and the test bridge as one script for Playwright.
 */
import { join, resolve } from 'node:path';
import { build, type Rollup } from 'vite';
import { OUTPUT, ROOT } from '../helpers/fixtures.js';

export async function buildRenderer(): Promise<string> {
  const outDir = join(OUTPUT, 'e2e', 'renderer');
  // vitest sets NODE_ENV=test, which would make this a development build of React: build as
  // `npm run build:renderer` does.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      configFile: join(ROOT, 'src-renderer', 'vite.config.ts'),
      logLevel: 'warn',
      mode: 'production',
      build: { outDir, emptyOutDir: true, sourcemap: false },
    });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  return outDir;
}

export async function buildBridge(): Promise<string> {
  const out = (await build({
    configFile: false,
    root: ROOT,
    logLevel: 'warn',
    build: {
      write: false,
      minify: false,
      lib: { entry: resolve(ROOT, 'test', 'e2e', 'bridge.ts'), formats: ['iife'], name: 'atlasE2eBridge' },
    },
  })) as Rollup.RollupOutput[] | Rollup.RollupOutput;
  const outputs = Array.isArray(out) ? out : [out];
  const chunk = outputs.flatMap((o) => o.output).find((o) => o.type === 'chunk');
  if (!chunk || chunk.type !== 'chunk') throw new Error('the e2e bridge did not build');
  return chunk.code;
}
