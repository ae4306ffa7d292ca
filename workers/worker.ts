import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Activities } from '../activities';
import { TASK_QUEUE } from '../workflows/definitions';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/**
 * Bundles the workflow code once; several workers in one process (tests, a restarted worker) can share the bundle
 * instead of paying for webpack each time.
 */
export async function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
}

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
  readonly address: string;
  readonly namespace?: string;
  readonly taskQueue?: string;
  readonly activities: Activities;
  readonly bundle?: WorkflowBundleWithSourceMap;
}

export interface GovernorWorker {
  readonly worker: Worker;
  readonly connection: NativeConnection;
  /** Runs until `shutdown()`; resolves when the worker has drained. */
  run(): Promise<void>;
  shutdown(): Promise<void>;
}

export async function createGovernorWorker(options: GovernorWorkerOptions): Promise<GovernorWorker> {
  const connection = await NativeConnection.connect({ address: options.address });
  const worker = await Worker.create({
    connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    activities: options.activities,
    workflowBundle: options.bundle ?? (await bundleWorkflows()),
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
