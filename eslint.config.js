// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const nodeBuiltins = [
  'assert', 'async_hooks', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs', 'fs/promises',
  'http', 'http2', 'https', 'inspector', 'module', 'net', 'os', 'path', 'perf_hooks', 'process', 'readline', 'stream',
  'timers', 'tls', 'tty', 'url', 'util', 'v8', 'vm', 'worker_threads', 'zlib',
];

/**
 * Workflow code runs in Temporal's deterministic sandbox. These imports would do I/O or bring nondeterminism in;
 * types are fine (`import type`), which is how workflows see activities.
 */
const sandboxRestrictions = {
  paths: nodeBuiltins.flatMap((name) => [
    { name, message: 'Workflow code must not do I/O: move this into an activity.' },
    { name: `node:${name}`, message: 'Workflow code must not do I/O: move this into an activity.' },
  ]),
  patterns: [
    {
      group: ['@temporalio/activity', '@temporalio/client', '@temporalio/worker', '@temporalio/testing'],
      allowTypeImports: true,
      message: 'Workflows use @temporalio/workflow only; these packages do I/O.',
    },
    { group: ['@anthropic-ai/sdk', 'openai', 'openai/*'], allowTypeImports: true, message: 'Model calls are activities: call them through proxyActivities.' },
    {
      group: ['**/activities', '**/activities/**', '**/client', '**/client/**', '**/workers', '**/workers/**'],
      allowTypeImports: true,
      message: 'Workflows may import activities, client and worker code by `import type` only.',
    },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/**', '.governor/**', 'test/histories/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver()] },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', name: ['describe', 'it', 'test', 'suite'], package: 'node:test' }] },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
    },
  },
  {
    files: ['workflows/**/*.ts', 'contracts/**/*.ts', 'prompts/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', sandboxRestrictions],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'Workflow code reads no environment: pass configuration in the workflow input.' },
        { name: 'setTimeout', message: 'Use sleep() or condition() from @temporalio/workflow: they are durable timers.' },
        { name: 'setInterval', message: 'Use sleep() in a loop from @temporalio/workflow.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Randomness breaks replay: use uuid4() from @temporalio/workflow, or take it as input.' },
        { object: 'Date', property: 'now', message: 'Read time from workflow APIs (workflowInfo), never the wall clock.' },
      ],
    },
  },
  {
    files: ['eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
