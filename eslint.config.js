import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'examples/**/focus/', 'focus/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.mjs', 'bin/*'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', performance: 'readonly' } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Only src/config.ts reads the environment (SPEC §3).
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'read configuration through src/config.ts' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/process.ts'],
    rules: {
      // Only src/process.ts starts programs (descriptor hygiene, uid drop, redaction).
      'no-restricted-imports': ['error', { paths: [{ name: 'node:child_process', message: 'spawn through src/process.ts' }] }],
    },
  },
  {
    files: ['src/config.ts', 'test/**', 'bench/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
);
