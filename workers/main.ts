/**
 * `npm run worker`: a worker process for the triage task queue, configured from the environment.
 *
 *   TEMPORAL_ADDRESS      Temporal frontend (default 127.0.0.1:7233)
 *   TEMPORAL_NAMESPACE    namespace (default "default")
 *   ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL, OPENAI_API_KEY / OPENAI_BASE_URL   model providers (at least one)
 *   GOVERNOR_DATA_DIR     where the embedded evidence database lives (default .governor/pgdata)
 *   GOVERNOR_MODEL_TIMEOUT_MS   per-request provider timeout (default 30000)
 *   GOVERNOR_METRICS_PORT       Prometheus /metrics and /breakers on loopback (default 9464; 0 picks a free port)
 *   GOVERNOR_BREAKER_FAILURES, GOVERNOR_BREAKER_WINDOW, GOVERNOR_BREAKER_COOLDOWN_MS   circuit breakers (5, 10, 30000)
 */
import { resolve } from 'node:path';
import type { LogLevel } from '@temporalio/worker';
import { createActivities } from '../activities';
import { BreakerRegistry } from '../activities/breakers';
import { startMetricsServer } from './metrics';
import { createProviders, providersConfigFromEnv } from '../activities/model/providers';
import { openStore } from '../activities/store';
import { installRuntime } from './runtime';
import { createGovernorWorker } from './worker';

async function main(): Promise<void> {
  installRuntime((process.env.GOVERNOR_LOG_LEVEL as LogLevel | undefined) || 'INFO');
  const providers = createProviders(providersConfigFromEnv());
  if (providers.configured.length === 0) {
    process.stderr.write(
      'governor worker: no model provider configured. Set ANTHROPIC_API_KEY or OPENAI_API_KEY (with *_BASE_URL for a ' +
        'compatible endpoint), or run `npm run demo` to use the offline model double.\n',
    );
    process.exitCode = 2;
    return;
  }
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  const dataDir = resolve(process.env.GOVERNOR_DATA_DIR ?? '.governor/pgdata');
  const store = await openStore({ dataDir });
  const num = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined);
  const breakers = new BreakerRegistry({
    failures: num('GOVERNOR_BREAKER_FAILURES'),
    window: num('GOVERNOR_BREAKER_WINDOW'),
    cooldownMs: num('GOVERNOR_BREAKER_COOLDOWN_MS'),
  });
  const worker = await createGovernorWorker({ address, namespace: process.env.TEMPORAL_NAMESPACE, activities: createActivities({ providers, store, breakers }) });
  const metrics = await startMetricsServer(breakers, { port: num('GOVERNOR_METRICS_PORT') ?? 9464 }).catch((err: Error) => {
    process.stderr.write(`governor worker: metrics not served (${err.message})\n`);
    return undefined;
  });
  process.stderr.write(
    `governor worker: polling on ${address}, providers ${providers.configured.join(', ')}, store ${dataDir}` +
      `${metrics ? `, metrics ${metrics.url}/metrics` : ''}\n`,
  );
  const stop = () => void worker.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await worker.run();
  await metrics?.close();
  await store.close();
}

await main();
