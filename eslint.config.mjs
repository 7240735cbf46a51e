// typescript-eslint's recommended rules (no type information needed, so `npx eslint .` stays fast) over every
// TypeScript and JavaScript file of the repository. Rule choices that differ from the presets say why below.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The few globals of the plain-JavaScript files (listed here instead of adding the `globals` package).
const nodeGlobals = Object.fromEntries(
  [
    'require',
    'module',
    'exports',
    '__dirname',
    '__filename',
    'process',
    'console',
    'Buffer',
    'URL',
    'URLSearchParams',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'setImmediate',
    'fetch',
  ].map((g) => [g, 'readonly']),
);
const browserGlobals = Object.fromEntries(
  [
    'window',
    'document',
    'location',
    'history',
    'console',
    'fetch',
    'URL',
    'URLSearchParams',
    'Blob',
    'CSS',
    'EventSource',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'uPlot',
  ].map((g) => [g, 'readonly']),
);

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', 'test-output/'] },
  // No eslint-disable comments: a rule that is wrong for the project is changed here, with its reason.
  { linterOptions: { noInlineConfig: true, reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // A leading underscore marks a parameter an interface or a framework requires but this implementation
      // does not read (express's 4-argument error handler, AuthMethod.authenticate's extra details).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': [
        'error',
        // autobahn-js ships no type declarations: it is loaded with require and typed by client/autobahn-types.ts.
        { allow: ['^autobahn(/lib/log\\.js)?$'] },
      ],
    },
  },
  {
    // Node scripts and fixtures written in CommonJS JavaScript.
    files: ['**/*.js'],
    ignores: ['consumers/web/static/**'],
    languageOptions: { sourceType: 'commonjs', globals: nodeGlobals },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The web page: plain browser JavaScript (uPlot is loaded by index.html before app.js).
    files: ['consumers/web/static/**/*.js'],
    languageOptions: { sourceType: 'script', globals: browserGlobals },
  },
  {
    // Tests probe untyped wire payloads (JSON bodies, gRPC's dynamic clients, browser globals inside
    // page.evaluate) and check their shape with expect(); production code keeps `any` an error.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
