/**
 * The renderer's component tests on their own (npm run test:renderer): Testing Library in jsdom
 * (each file says `// @vitest-environment jsdom`). The root config runs them too once its include
 * covers .tsx.
 */
import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: resolve(import.meta.dirname, '..'),
  test: {
    include: ['test/renderer/**/*.test.{ts,tsx}'],
    testTimeout: 30_000,
  },
});
