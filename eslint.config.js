import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // test/cronium-corpus/ holds scripts in Cronium's style, run as written: neither linted nor formatted.
  { ignores: ['node_modules/', 'dist/', 'out/', 'test-artifacts/', 'test/cronium-corpus/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The store is async (issue 13): a missed `await` is a write that may not have landed, or an error
    // nobody sees. Type-aware rules find them; `void` marks the few promises meant to run on their own.
    files: ['src/**/*.ts', 'electron/**/*.ts', 'test/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: reactHooks.configs.recommended.rules,
  },
  {
    // The renderer reaches the core only through the contract's types and its transport.
    files: ['renderer/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              message:
                'The renderer talks to the core through window.cronium or the WebSocket, never Electron.',
            },
          ],
          patterns: [
            {
              // domain.ts (and src/core/domain/) holds plain data only: the value lists (languages, statuses, …) the UI offers;
              // rules.ts (src/core/rules/) and outputGroups.ts are pure functions the form and the live view apply exactly as
              // the core does (job parameters, output groups): one declaration of each rule.
              regex: '^(\\.\\./){2,}src/(?!core/(?:domain|rules|outputGroups)(?:/[A-Za-z]+)?\\.ts$)',
              allowTypeImports: true,
              message:
                'Only types from the core (the contract) and the value lists of src/core/domain.ts; calls go through the transport.',
            },
          ],
        },
      ],
    },
  },
  {
    // Shipped to servers and run by their Node.js: plain CommonJS.
    files: ['src/remote/**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The core must stay runnable in plain Node (CLI, browser mode, tests): Electron only in electron/.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              message: 'src/ is the core and never imports electron; wire it up in electron/.',
            },
          ],
          patterns: ['electron/*'],
        },
      ],
    },
  },
);
