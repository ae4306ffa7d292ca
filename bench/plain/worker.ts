/** The plain-Temporal baseline's worker, in the benchmark's own process beside the kit's. */
import Anthropic from '@anthropic-ai/sdk';
import { NativeConnection, Worker } from '@temporalio/worker';
import { plainActivities } from './activities.js';

export interface PlainWorker {
  readonly taskQueue: string;
  close(): Promise<void>;
}

export async function startPlainWorker(options: { address: string; anthropicBaseURL: string; taskQueue?: string }): Promise<PlainWorker> {
  const taskQueue = options.taskQueue ?? 'plain-temporal';
  const connection = await NativeConnection.connect({ address: options.address });
  const anthropic = new Anthropic({ apiKey: 'bench', baseURL: options.anthropicBaseURL, maxRetries: 0, timeout: 60_000 });
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowsPath: new URL('./workflows.ts', import.meta.url).pathname,
    activities: plainActivities(anthropic),
  });
  const running = worker.run();
  return {
    taskQueue,
    async close() {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}
