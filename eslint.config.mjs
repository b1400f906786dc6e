// Lint: type-aware typescript-eslint, import cycles, and the layer rules of docs/architecture.md.
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = ['node:*', 'fs', 'fs/*', 'path', 'os', 'crypto', 'child_process', 'net', 'http', 'https', 'dns', 'worker_threads', 'url'];

/** Upward and sideways imports a layer must not make (patterns are relative-path globs). */
const upper = (layers) => layers.flatMap((l) => [`../${l}/*`, `../../${l}/*`, `../../../${l}/*`]);

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', '.data/', '.lab/', '.test-output/', 'bench/results/', '**/*.mjs', '**/*.js'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    plugins: { 'import-x': importX },
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    settings: {
      // our imports name the .ts file itself (allowImportingTsExtensions), so node's resolution finds it
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.mjs', '.json'] })],
      'import-x/extensions': ['.ts'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: {
      // node:test's test() and describe() return promises the runner itself awaits
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] }],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    // Deterministic orchestration: activities as types only, no Node built-ins, no I/O libraries, no surfaces.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['execa', 'undici', 'proper-lockfile'].map((name) => ({ name, message: 'workflow code does no I/O' })),
          patterns: [
            { group: NODE_BUILTINS, message: 'workflow code runs in the deterministic sandbox: no Node built-ins' },
            { group: ['../activities/*', '../../activities/*'], allowTypeImports: true, message: 'workflows import activities as types only' },
            { group: upper(['cli', 'chat', 'client', 'workers', 'lab']), message: 'workflows know nothing of the surfaces, the client, workers or the lab' },
          ],
        },
      ],
    },
  },
  {
    // The workflow-safe kernel: plain data and pure helpers.
    files: ['contracts/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: NODE_BUILTINS, message: 'contracts are workflow-safe: no Node built-ins' },
            { group: upper(['workflows', 'activities', 'cli', 'chat', 'client', 'workers', 'lab']), message: 'contracts import only the blueprint (types) and each other' },
          ],
        },
      ],
    },
  },
  {
    // The pure domain and the adapters never reach up into orchestration or the operator surfaces.
    files: ['blueprint/**/*.ts', 'activities/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: upper(['workflows', 'cli', 'chat', 'client']), message: 'activities and the blueprint never import workflows, the client, cli or chat' }] },
      ],
    },
  },
  {
    // Surfaces talk to Temporal through client/ only, and never to each other.
    files: ['chat/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: upper(['cli', 'activities', 'workers']), message: 'chat uses client/, contracts/ and the blueprint, not the CLI, activities or workers' }] }],
    },
  },
);
