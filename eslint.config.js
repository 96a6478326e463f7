import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import layers from './eslint/layers.js';
import commandEntries from './eslint/command-entries.js';
import cliImports from './eslint/cli-imports.js';
import narrowConfig from './eslint/narrow-config.js';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'examples/**/focus/', 'focus/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.mjs', '**/*.js', 'bin/*'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', performance: 'readonly', URL: 'readonly' } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Only src/base/config.ts reads the environment (SPEC §3).
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'read configuration through src/base/config.ts' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/base/process.ts'],
    rules: {
      // Only src/base/process.ts starts programs (descriptor hygiene, uid drop, redaction).
      'no-restricted-imports': ['error', { paths: [{ name: 'node:child_process', message: 'spawn through src/base/process.ts' }] }],
    },
  },
  {
    // The house of SPEC §15: imports point down only.
    files: ['src/**/*.ts'],
    plugins: { house: { rules: { layers, 'command-entries': commandEntries, 'cli-imports': cliImports, 'narrow-config': narrowConfig } } },
    rules: {
      'house/layers': 'error',
      // configureCommand, register*Command: commander's Command; describeCommand, remoteDumpCommand: a command line.
      'house/command-entries': ['error', { allow: ['^configureCommand$', '^register\\w*Command$', '^describeCommand$', '^remoteDumpCommand$'] }],
      // Core takes the narrow settings it uses; src/commands/ and src/cli/ keep the whole Config.
      'house/narrow-config': ['error', {
        allow: [
          { function: 'newProjectConfig', reason: 'derives the whole configuration of a new project from the whole configuration (flags applied on top are kept)' },
        ],
      }],
    },
  },
  {
    // cli → commands → core: the programs and their command registrations.
    files: ['src/cli/*-program.ts', 'src/cli/database/*.ts'],
    rules: { 'house/cli-imports': 'error' },
  },
  {
    // Programs load a command's implementation when its action runs: loading them all
    // cost every run 60 ms of start-up (SPEC §13). Types and the light layers are fine;
    // core is reached through commands only (house/cli-imports above).
    files: ['src/cli/*-program.ts', 'src/cli/database/*-command.ts', 'src/cli/database/*-commands.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{
          group: ['pg', '**/commands/*'],
          allowTypeImports: true,
          message: "import a command's implementation in its action (await import(…)), not at start-up",
        }],
      }],
    },
  },
  {
    files: ['src/base/config.ts', 'test/**', 'bench/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
);
