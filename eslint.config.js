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

/** Everywhere: the SDKs' public entry points only; `lib/` paths are internal and change without notice. */
const publicSdkOnly = [{ group: ['@temporalio/*/lib', '@temporalio/*/lib/**'], message: "Import from the package's public entry point, not its internal lib/ path." }];

/** Governor itself never depends on the reference domain: the support workflows are an example built on it. */
const noReferenceDomain = [{ group: ['**/examples', '**/examples/**'], message: 'Framework code must not import the reference domain (examples/).' }];

/** The demo, the benchmarks and the examples use what an adopter has: nothing from the test folder. */
const noTestHelpers = [{ group: ['**/test/**', '**/test'], message: 'Only tests import from test/: use governor/testing or examples/support/harness.ts.' }];

const FRAMEWORK_DIRS = 'contracts|workflows|activities|workers|client|console|testing';
/** The reference domain uses Governor's public entry points only (`governor`, `governor/workflow`, …), as an adopter would. */
// Two or more levels up from examples/<domain>/ is the repository root; one level up is the domain's own folders.
const publicEntryPointsOnly = [
  {
    regex: `^(\\.\\./){2,}(${FRAMEWORK_DIRS})(/|$)`,
    message: "Examples import Governor through its public entry points ('governor', 'governor/workflow', 'governor/worker', 'governor/client', 'governor/console', 'governor/testing').",
  },
];

/** Examples' workflow-side code: the sandbox rules, and no worker, client or testing entry point (but types). */
const exampleSandbox = [
  ...sandboxRestrictions.patterns.slice(0, 2),
  { group: ['governor/worker', 'governor/client', 'governor/testing'], allowTypeImports: true, message: 'Workflow code imports governor and governor/workflow only (types of the others are fine).' },
];

/** What makes workflow code nondeterministic: the environment, wall-clock timers, randomness, the wall clock. */
const determinism = {
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
};

export default tseslint.config(
  { ignores: ['node_modules/**', '.governor/**', 'test/histories/**', 'dist/**', 'build/**', 'console/bundle/**', 'test-artifacts/**'] },
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
      'no-restricted-imports': ['error', { patterns: publicSdkOnly }],
    },
  },
  {
    files: ['activities/**/*.ts', 'workers/**/*.ts', 'client/**/*.ts', 'console/**/*.ts', 'testing/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...publicSdkOnly, ...noReferenceDomain] }] },
  },
  {
    files: ['examples/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...publicSdkOnly, ...publicEntryPointsOnly, ...noTestHelpers] }] },
  },
  {
    files: ['scripts/**/*.ts', 'bench/**/*.ts', 'chaos/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...publicSdkOnly, ...noTestHelpers] }] },
  },
  {
    files: ['workflows/**/*.ts', 'contracts/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: sandboxRestrictions.paths, patterns: [...sandboxRestrictions.patterns, ...publicSdkOnly, ...noReferenceDomain] }],
      ...determinism,
    },
  },
  {
    files: ['examples/*/workflows/**/*.ts', 'examples/*/contracts/**/*.ts', 'examples/*/prompts/**/*.ts', 'examples/*/definitions.ts', 'examples/*/tools.ts', 'examples/*/ids.ts', 'examples/*/policy.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: sandboxRestrictions.paths, patterns: [...exampleSandbox, ...publicSdkOnly, ...publicEntryPointsOnly, ...noTestHelpers] }],
      ...determinism,
    },
  },
  {
    files: ['eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
