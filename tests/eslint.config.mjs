// ESLint for the dashboard and its tests (ctest dashboard_lint, run from the repository root with
// --config, so the patterns below are relative to the root). The recommended rules only: lint for
// bugs, not for style.
import js from '@eslint/js';
import globals from 'globals';

export default [
  js.configs.recommended,
  {
    // Served to browsers as they are, no build step: ES modules, except theme.js (a classic script,
    // it must run before the first paint).
    files: ['resources/dashboard/**/*.js'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: globals.browser },
  },
  {
    files: ['resources/dashboard/theme.js'],
    languageOptions: { sourceType: 'script' },
  },
  {
    // A classic worker script (stream.js starts it).
    files: ['resources/dashboard/feedworker.js'],
    languageOptions: { sourceType: 'script', globals: globals.worker },
  },
  {
    // node's test runner, the end-to-end harness and the dashboard benchmark. page.evaluate()
    // callbacks run in the page, so browser globals are known there too.
    files: ['tests/**/*.mjs', 'bench/dashboard/**/*.mjs'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { ...globals.node, ...globals.browser },
    },
  },
];
