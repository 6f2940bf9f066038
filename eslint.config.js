import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import layers from './scripts/eslint-layers.js';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-output/**', 'release/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              message: 'The core is plain Node: import electron only in src-main/electron.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src-main/**/*.ts', 'src-renderer/**/*.{ts,tsx}', 'bench/**/*.ts'],
    plugins: { atlas: layers },
    rules: { 'atlas/layers': 'error' },
  },
  {
    // The limactl fronts' executables have no extension; their code is test/limactl-fronts/*.mjs.
    files: ['test/doubles/bin/limactl', 'test/vm/bin/limactl'],
  },
  {
    // Tests read the CLI's JSON results without declaring every shape.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['src-main/electron/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
