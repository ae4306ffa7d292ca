import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundlePath, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { PayloadCodec } from '@temporalio/common';
import type { Activities } from '../activities/index.js';
import { readTogetherActivity } from '../activities/reads.js';
import { temporalConnectionConfig } from '../activities/temporal-connection.js';
import { DEFAULT_TASK_QUEUE } from '../contracts/ids.js';
import type { Tracing } from './tracing.js';

/** A module of this package, compiled (`.js`, in an installed package) or as source (`.ts`, in this repository). */
function ownModule(relative: string): string {
  const js = fileURLToPath(new URL(`${relative}.js`, import.meta.url));
  return existsSync(js) ? js : fileURLToPath(new URL(`${relative}.ts`, import.meta.url));
}

export interface BundleOptions {
  /** The module that exports the workflow functions (and `resourceLease`, re-exported from `governor/workflow`). */
  readonly workflowsPath: string;
  /**
   * Put failure messages and stack traces in encoded payloads (so an encrypting codec covers them): set it when the
   * worker that runs the bundle has a `codec`. `createGovernorWorker` sets it when it bundles for you.
   */
  readonly encryptFailures?: boolean;
  /**
   * Puts Temporal's OpenTelemetry workflow interceptors in the bundle (workflow spans, Governor's model-call spans):
   * the worker that runs it must then have the same `tracing`.
   */
  readonly tracing?: Tracing;
}

/**
 * Bundles a deployment's workflow code once; several workers in one process (tests, a restarted worker) can share
 * the bundle instead of paying for webpack each time. `governor` and `governor/workflow` resolve to this package's
 * own modules, so the kit in the bundle is the one the worker's activities were built with.
 */
export async function bundleWorkflows(options: BundleOptions): Promise<WorkflowBundleWithSourceMap> {
  const alias = { 'governor/workflow$': ownModule('../workflows/index'), governor$: ownModule('../contracts/index') };
  return bundleWorkflowCode({
    workflowsPath: options.workflowsPath,
    ...(options.encryptFailures ? { failureConverterPath: FAILURE_CONVERTER } : {}),
    ...(options.tracing ? { plugins: [options.tracing.plugin] } : {}),
    logger: quietBundlerLogger,
    preloadModules: [SHARED_MODULES],
    webpackConfigHook: (config) => ({
      ...config,
      resolve: { ...config.resolve, alias: { ...(config.resolve?.alias as object), ...alias } },
      // Every new workflow run evaluates the bundle's modules again (the SDK isolates each run's module state), so a
      // module that no workflow uses still costs every run its evaluation time and memory. Webpack leaves out what is
      // only re-exported through a barrel and never used, for packages that declare no side effects (this one does).
      optimization: { ...config.optimization, sideEffects: true, usedExports: true, providedExports: true },
    }),
  });
}

/**
 * Bundles a deployment's workflow code at build time and writes it to `path`, for `createGovernorWorker({ workflows:
 * { codePath: path } })`: a worker that loads a prebuilt bundle skips webpack at start (seconds, and the memory
 * webpack keeps). The bundle must be built with the options the worker runs with (`encryptFailures` with a codec,
 * `tracing` with tracing).
 */
export async function writeWorkflowBundle(options: BundleOptions & { readonly path: string }): Promise<void> {
  const { code } = await bundleWorkflows(options);
  await mkdir(dirname(options.path), { recursive: true });
  await writeFile(options.path, code);
}

const FAILURE_CONVERTER = ownModule('./failure-converter');
const SHARED_MODULES = ownModule('./shared-modules');

/** Webpack's chatter is noise to users; warnings and errors still show. */
export const quietBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => process.stderr.write(`workflow bundle: ${message}\n`),
  error: (message: string) => process.stderr.write(`workflow bundle: ${message}\n`),
};

export interface GovernorWorkerOptions {
  /** Default: Temporal's environment configuration (profile, `TEMPORAL_*`, with TLS and API key), else 127.0.0.1:7233. */
  readonly address?: string;
  readonly namespace?: string;
  /** A profile of Temporal's config file (default `TEMPORAL_PROFILE`). */
  readonly profile?: string;
  /** Default `governor`. */
  readonly taskQueue?: string;
  readonly activities: Activities & Record<string, (...args: never[]) => Promise<unknown>>;
  /**
   * The worker's own activities that are reads (a lookup, no effect), which a run may ask together with others in one
   * local activity (`readTogether` in `governor/workflow`). Governor's reads (`KIT_READS`) are always declared.
   */
  readonly reads?: readonly string[];
  /**
   * A bundle from `bundleWorkflows`, a bundle written to a file at build time (`{ codePath }`, see
   * `writeWorkflowBundle`: the worker starts without webpack, faster and in less memory), or the module to bundle.
   */
  readonly workflows: WorkflowBundleWithSourceMap | WorkflowBundlePath | BundleOptions;
  /**
   * Workflow runs kept in memory between their tasks (the sticky cache). A run evicted from it is replayed from its
   * history when its next task comes (a decision arriving for a parked run): a few ms of CPU, no effect repeated.
   * Bounds the memory of runs that wait for days; default: the SDK's, which grows with the heap limit.
   */
  readonly maxCachedWorkflows?: number;
  /**
   * Encrypts every payload this worker writes to history (`AesGcmPayloadCodec`), failure messages included. A bundle
   * passed in must then come from `bundleWorkflows({ …, encryptFailures: true })`.
   */
  readonly codec?: PayloadCodec;
  /**
   * Keeps payloads above its threshold in the store and only their hash in history (`ClaimCheckCodec`): history grows
   * by a constant per step however large prompts, replies and documents are. Runs after `codec`, so the store holds
   * ciphertext when both are set. Every client that reads these runs' payloads needs the same codec.
   */
  readonly claimCheck?: PayloadCodec;
  /**
   * OpenTelemetry tracing (`createTracing`, `tracingFromEnv`): workflow, activity, model-call and tool spans. A bundle
   * passed in must then come from `bundleWorkflows({ …, tracing })`.
   */
  readonly tracing?: Tracing;
}

export interface GovernorWorker {
  readonly worker: Worker;
  readonly connection: NativeConnection;
  /** Runs until `shutdown()`; resolves when the worker has drained. */
  run(): Promise<void>;
  shutdown(): Promise<void>;
}

export async function createGovernorWorker(options: GovernorWorkerOptions): Promise<GovernorWorker> {
  const config = temporalConnectionConfig({ address: options.address, namespace: options.namespace, profile: options.profile });
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect({
      address: config.address,
      ...(config.tls !== undefined ? { tls: config.tls } : {}),
      ...(config.apiKey ? { apiKey: config.apiKey } : {}),
      ...(config.metadata ? { metadata: config.metadata } : {}),
    });
  } catch (err) {
    throw new Error(`cannot reach Temporal at ${config.address} (${(err as Error).message}); is the server running? (npm run server)`);
  }
  const workflowBundle =
    'workflowsPath' in options.workflows
      ? await bundleWorkflows({ ...options.workflows, encryptFailures: options.codec !== undefined, tracing: options.tracing })
      : options.workflows;
  const worker = await Worker.create({
    connection,
    namespace: config.namespace,
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    activities: { ...options.activities, readTogether: readTogetherActivity(options.activities, options.reads) },
    workflowBundle,
    ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
    ...(options.tracing ? { plugins: [options.tracing.plugin] } : {}),
    ...(options.codec || options.claimCheck
      ? {
          dataConverter: {
            payloadCodecs: [options.codec, options.claimCheck].filter((c): c is PayloadCodec => c !== undefined),
            ...(options.codec ? { failureConverterPath: FAILURE_CONVERTER } : {}),
          },
        }
      : {}),
  });
  let running: Promise<void> | undefined;
  return {
    worker,
    connection,
    run() {
      running ??= worker.run();
      return running;
    },
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      if (running) await running;
      await connection.close();
    },
  };
}
