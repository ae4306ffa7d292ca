import { spawn, type ChildProcess } from 'node:child_process';
import type { WorkflowHandle } from '@temporalio/client';
import { fileURLToPath } from 'node:url';
import { eventually, type Harness } from '../../examples/support/harness.js';

export * from '../../examples/support/harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A real worker process (`examples/support/worker.ts`) on the harness's server and double, with its embedded store in
 * `dataDir`: for tests that kill a worker. Resolves once it polls; the caller kills it (and its stragglers).
 */
export async function startWorkerProcess(h: Harness, dataDir: string, env: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/support/worker.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: h.server.address,
      ANTHROPIC_API_KEY: 'test-key',
      ANTHROPIC_BASE_URL: h.double.anthropicBaseURL,
      OPENAI_API_KEY: '',
      DATABASE_URL: '',
      GOVERNOR_DATA_DIR: dataDir,
      GOVERNOR_METRICS_PORT: '0',
      GOVERNOR_LOG_LEVEL: 'ERROR',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  await eventually('the worker process to poll', async () => (stderr.includes('polling on') ? true : undefined), 60_000);
  return child;
}

/**
 * A run's local-activity markers in history order: the activity type, the event id, and the recorded result (the
 * result payload's bytes, null when the activity recorded none).
 */
export function localActivityMarkers(history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>>): Array<{ type: string; eventId: number; result: Uint8Array | null }> {
  return (history.events ?? []).flatMap((e) => {
    const m = e.markerRecordedEventAttributes;
    const data = m?.markerName === 'core_local_activity' ? m.details?.data?.payloads?.[0]?.data : undefined;
    if (!data) return [];
    const type = (JSON.parse(Buffer.from(data).toString()) as { activity_type: string }).activity_type;
    return [{ type, eventId: Number(e.eventId), result: m?.details?.result?.payloads?.[0]?.data ?? null }];
  });
}
