/**
 * `npm run worker`: a worker process for the triage task queue, configured from the environment.
 *
 *   TEMPORAL_ADDRESS      Temporal frontend (default 127.0.0.1:7233)
 *   TEMPORAL_NAMESPACE    namespace (default "default")
 *   ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL, OPENAI_API_KEY / OPENAI_BASE_URL   model providers (at least one)
 *   DATABASE_URL          PostgreSQL server for the store and evidence (default: embedded PGlite in GOVERNOR_DATA_DIR)
 *   GOVERNOR_DATA_DIR     where the embedded evidence database lives (default .governor/pgdata)
 *   GOVERNOR_POLICY_FILE  JSON permission policy (default: the built-in DEFAULT_POLICY)
 *   GOVERNOR_MODEL_TIMEOUT_MS   per-request provider timeout (default 30000)
 *   GOVERNOR_METRICS_PORT       Prometheus /metrics and /breakers on loopback (default 9464; 0 picks a free port)
 *   GOVERNOR_BREAKER_FAILURES, GOVERNOR_BREAKER_WINDOW, GOVERNOR_BREAKER_COOLDOWN_MS   circuit breakers (5, 10, 30000)
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { LogLevel } from '@temporalio/worker';
import { DEFAULT_POLICY, Policy } from '../../contracts/policy.js';
import { formatIssues, issuesFrom } from '../../contracts/issues.js';
import { createActivities } from '../../activities/index.js';
import { BreakerRegistry } from '../../activities/breakers.js';
import { startMetricsServer } from '../../workers/metrics.js';
import { createProviders, providersConfigFromEnv } from '../../activities/providers/registry.js';
import { openStore } from '../../activities/store.js';
import { installRuntime } from '../../workers/runtime.js';
import { createGovernorWorker } from '../../workers/worker.js';

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
  const policy = await loadPolicy(process.env.GOVERNOR_POLICY_FILE);
  if (!policy) {
    process.exitCode = 2;
    return;
  }
  const dataDir = resolve(process.env.GOVERNOR_DATA_DIR ?? '.governor/pgdata');
  const store = await openStore({ databaseUrl: process.env.DATABASE_URL || undefined, dataDir });
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  const temporalConnection = await Connection.connect({ address });
  const temporal = new Client({ connection: temporalConnection, namespace });
  const num = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined);
  const breakers = new BreakerRegistry({
    failures: num('GOVERNOR_BREAKER_FAILURES'),
    window: num('GOVERNOR_BREAKER_WINDOW'),
    cooldownMs: num('GOVERNOR_BREAKER_COOLDOWN_MS'),
  });
  // Test hook for exactly-once tests: die (as a crash would) right after the named tool's effect committed, before
  // the activity reports completion.
  const crashAfter = process.env.GOVERNOR_TEST_CRASH_AFTER_EFFECT;
  const hooks = crashAfter
    ? { afterEffect: (e: { tool: string }) => void (e.tool === crashAfter && process.kill(process.pid, 'SIGKILL')) }
    : undefined;
  const worker = await createGovernorWorker({ address, namespace, activities: createActivities({ providers, store, breakers, policy, temporal, hooks }) });
  const metrics = await startMetricsServer(breakers, { port: num('GOVERNOR_METRICS_PORT') ?? 9464, store }).catch((err: Error) => {
    process.stderr.write(`governor worker: metrics not served (${err.message})\n`);
    return undefined;
  });
  process.stderr.write(
    `governor worker: polling on ${address}, providers ${providers.configured.join(', ')}, store ${store.db.describe}, policy ${policy.version}` +
      `${metrics ? `, metrics ${metrics.url}/metrics` : ''}\n`,
  );
  const stop = () => void worker.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await worker.run();
  await metrics?.close();
  await temporalConnection.close();
  await store.close();
}

/** The permission policy from a JSON file, validated; null (after saying why) when it is not usable. */
async function loadPolicy(file: string | undefined): Promise<Policy | null> {
  if (!file) return DEFAULT_POLICY;
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    process.stderr.write(`governor worker: cannot read policy ${file}: ${(err as Error).message}\n`);
    return null;
  }
  const parsed = Policy.safeParse(raw);
  if (!parsed.success) {
    process.stderr.write(`governor worker: invalid policy ${file}: ${formatIssues(issuesFrom(parsed.error))}\n`);
    return null;
  }
  return parsed.data;
}

await main();
