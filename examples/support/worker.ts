/**
 * `npm run worker`: a worker process for the support workflows, configured from the environment.
 *
 *   TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE / TEMPORAL_CONFIG_FILE
 *                         Temporal's own connection settings (default 127.0.0.1:7233, "default", no TLS)
 *   GOVERNOR_TASK_QUEUE   task queue (default "governor")
 *   ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL, OPENAI_API_KEY / OPENAI_BASE_URL   model providers (at least one)
 *   DATABASE_URL          PostgreSQL server for the store and evidence (default: embedded PGlite in GOVERNOR_DATA_DIR)
 *   GOVERNOR_DATA_DIR     where the embedded evidence database lives (default .governor/pgdata)
 *   GOVERNOR_POLICY_FILE  JSON permission policy (default: the support domain's SUPPORT_POLICY)
 *   GOVERNOR_CODEC_KEYS   id:base64key[,id:base64key…]: encrypt payloads (AES-256-GCM); GOVERNOR_CODEC_KEY_ID the current
 *   GOVERNOR_CODEC_TOKEN  with keys: serve /encode and /decode for the Web UI on GOVERNOR_CODEC_HOST:GOVERNOR_CODEC_PORT
 *                         (127.0.0.1:8888), to the origins in GOVERNOR_CODEC_CORS (http://127.0.0.1:8233)
 *   GOVERNOR_SMTP_URL     smtp://host:port: the outbox relay delivers escalation emails there (default: not started)
 *   GOVERNOR_MAIL_FROM    From address of relayed emails (default governor@governor.local)
 *   GOVERNOR_MODEL_TIMEOUT_MS   per-request provider timeout (default 30000)
 *   GOVERNOR_LOG_LEVEL    TRACE, DEBUG, INFO (default), WARN, ERROR: JSON lines on standard error
 *   GOVERNOR_PROMETHEUS_URL   Prometheus that scrapes the workers: evaluate the support SLOs every
 *                         GOVERNOR_SLO_INTERVAL_MS (30000) and carry out their breach actions (default: off);
 *                         GOVERNOR_SLO_WEBHOOK   a URL told of every breach and recovery
 *   OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT   export traces over OTLP/HTTP (default: off);
 *                         OTEL_SERVICE_NAME (governor-worker), OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true
 *                         puts prompt and reply text on model-call spans (default: never)
 *   GOVERNOR_METRICS_HOST, GOVERNOR_METRICS_PORT   Prometheus /metrics (the SDK's, Governor's workflow and tool
 *                         metrics, breakers, process) and /breakers (default 127.0.0.1:9464; 0.0.0.0 in a container;
 *                         port 0 picks a free one)
 *   GOVERNOR_BREAKER_FAILURES, GOVERNOR_BREAKER_WINDOW, GOVERNOR_BREAKER_COOLDOWN_MS   circuit breakers (5, 10, 30000)
 *   GOVERNOR_DAILY_USD    a spend ceiling per UTC day across every run on the store: no new model calls once reached
 *   GOVERNOR_TOKENS_PER_MINUTE, GOVERNOR_REQUESTS_PER_MINUTE   provider=n[,provider=n]: token and request rates
 *                         shared by every worker on the store
 *   GOVERNOR_MAX_CACHED_WORKFLOWS   runs kept in memory between their tasks (default 250); the rest replay from history
 *   GOVERNOR_CLAIM_CHECK_BYTES   keep payloads above this many bytes in the store, only their hash in history (default:
 *                         off); clients reading these runs set the same variable and DATABASE_URL
 *   GOVERNOR_CONSOLE_SECRET   at least 32 characters: serve the reviewer console on GOVERNOR_CONSOLE_HOST:GOVERNOR_CONSOLE_PORT
 *                         (127.0.0.1:8080); sign-in tokens from `governor console token` (signed with the same secret);
 *                         GOVERNOR_TEMPORAL_UI_URL links each run to the Web UI; GOVERNOR_CONSOLE_REDACT adds trigger
 *                         field paths hidden from reviewers (default: contact details)
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client, Connection } from '@temporalio/client';
import { connectTemporal, GovernorClient } from 'governor/client';
import { DEFAULT_CONSOLE_REDACT, startReviewConsole, type ReviewConsole } from 'governor/console';
import type { LogLevel } from '@temporalio/worker';
import {
  AesGcmPayloadCodec,
  BreakerRegistry,
  ClaimCheckCodec,
  spendLimits,
  type SpendLimits,
  codecKeysFromEnv,
  createGovernorWorker,
  createLogger,
  createOutboxRelay,
  createProviders,
  createSloMonitor,
  ensureRelaySchema,
  installRuntime,
  loadPolicyFile,
  providersConfigFromEnv,
  startCodecServer,
  loopbackMetricsAddress,
  startMetricsServer,
  temporalConnectionConfig,
  tracingFromEnv,
  type CodecServer,
  type OutboxRelay,
} from 'governor/worker';
import { SUPPORT_WORKFLOWS } from './definitions.js';
import { SUPPORT_POLICY } from './policy.js';
import { SUPPORT_SLOS } from './slos.js';
import { openSupportStore, SUPPORT_READS, SUPPORT_WORKFLOWS_PATH, supportActivities } from './setup.js';

/** Written next to the compiled worker by `npm run build:image`. */
const PREBUILT_BUNDLE = fileURLToPath(new URL('./workflow-bundle.js', import.meta.url));

/**
 * Runs kept in memory between their tasks. Every run parked on a person would otherwise stay cached (the SDK's
 * default grows with the heap, over 2,000 here, about 1 MB each); evicted, a run is replayed when its decision comes.
 */
const DEFAULT_MAX_CACHED_WORKFLOWS = 250;

function fail(message: string, code: number): void {
  process.stderr.write(`governor worker: ${message}\n`);
  process.exitCode = code;
}

async function main(): Promise<void> {
  // Structured JSON logs (one object per line, personal-data fields redacted) for every SDK and Governor line.
  const level = ((process.env.GOVERNOR_LOG_LEVEL || 'INFO').toUpperCase() as LogLevel);
  // The SDK runtime's Prometheus endpoint stays on loopback: the metrics server below serves it with the rest.
  const runtimeMetrics = await loopbackMetricsAddress();
  installRuntime(level, createLogger({ level: level.toLowerCase() }), { metricsAddress: runtimeMetrics });
  let providers;
  try {
    providers = createProviders(providersConfigFromEnv());
  } catch (err) {
    return fail((err as Error).message, 2);
  }
  if (providers.configured.length === 0) {
    return fail(
      'no model provider configured. Set ANTHROPIC_API_KEY or OPENAI_API_KEY (with *_BASE_URL for a compatible endpoint), ' +
        'or run `npm run demo` to use the offline model double.',
      2,
    );
  }
  let policy = SUPPORT_POLICY;
  if (process.env.GOVERNOR_POLICY_FILE) {
    try {
      policy = await loadPolicyFile(process.env.GOVERNOR_POLICY_FILE);
    } catch (err) {
      return fail((err as Error).message, 2);
    }
  }
  let codec: AesGcmPayloadCodec | undefined;
  try {
    const keys = codecKeysFromEnv();
    codec = keys ? new AesGcmPayloadCodec(keys) : undefined;
  } catch (err) {
    return fail((err as Error).message, 2);
  }
  // OpenTelemetry from its standard variables: workflow, activity, model-call and tool spans over OTLP.
  const tracing = tracingFromEnv();
  // Temporal's own configuration: a profile of its config file, TEMPORAL_ADDRESS / _NAMESPACE / _API_KEY / _TLS_*.
  const { address } = temporalConnectionConfig();
  const dataDir = resolve(process.env.GOVERNOR_DATA_DIR ?? '.governor/pgdata');
  let store;
  try {
    store = await openSupportStore({ databaseUrl: process.env.DATABASE_URL || undefined, dataDir });
  } catch (err) {
    return fail(`store (${process.env.DATABASE_URL ? 'DATABASE_URL' : dataDir}): ${(err as Error).message}`, 1);
  }
  let temporal: Client;
  let temporalConnection: Connection;
  try {
    ({ client: temporal, connection: temporalConnection } = await connectTemporal({ codec, tracing }));
  } catch (err) {
    await store.close();
    return fail((err as Error).message, 1);
  }
  const num = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined);
  let spend: SpendLimits | undefined;
  try {
    const rates = (name: string) => Object.fromEntries((process.env[name] ?? '').split(',').map((p) => p.trim()).filter(Boolean).map((r) => [r.split('=')[0]!.trim(), Number(r.split('=')[1])]));
    const [tokensPerMinute, requestsPerMinute] = [rates('GOVERNOR_TOKENS_PER_MINUTE'), rates('GOVERNOR_REQUESTS_PER_MINUTE')];
    spend =
      process.env.GOVERNOR_DAILY_USD || Object.keys(tokensPerMinute).length + Object.keys(requestsPerMinute).length > 0
        ? spendLimits({ ...(process.env.GOVERNOR_DAILY_USD ? { dailyUsd: Number(process.env.GOVERNOR_DAILY_USD) } : {}), tokensPerMinute, requestsPerMinute })
        : undefined;
  } catch (err) {
    await temporalConnection.close();
    await store.close();
    return fail(`GOVERNOR_DAILY_USD / GOVERNOR_TOKENS_PER_MINUTE / GOVERNOR_REQUESTS_PER_MINUTE: ${(err as Error).message}`, 2);
  }
  let claimCheck: ClaimCheckCodec | undefined;
  try {
    claimCheck = num('GOVERNOR_CLAIM_CHECK_BYTES') ? new ClaimCheckCodec({ store, thresholdBytes: num('GOVERNOR_CLAIM_CHECK_BYTES') }) : undefined;
  } catch (err) {
    await temporalConnection.close();
    await store.close();
    return fail(`GOVERNOR_CLAIM_CHECK_BYTES: ${(err as Error).message}`, 2);
  }
  const breakers = new BreakerRegistry({
    failures: num('GOVERNOR_BREAKER_FAILURES'),
    window: num('GOVERNOR_BREAKER_WINDOW'),
    cooldownMs: num('GOVERNOR_BREAKER_COOLDOWN_MS'),
  });
  // The reviewer console, in this process: it shares the store (the audit log, the evidence a run's detail shows).
  let reviewConsole: ReviewConsole | undefined;
  let consoleClient: GovernorClient | undefined;
  if (process.env.GOVERNOR_CONSOLE_SECRET) {
    try {
      consoleClient = await GovernorClient.connect({ workflows: SUPPORT_WORKFLOWS, codec, claimCheck, taskQueue: process.env.GOVERNOR_TASK_QUEUE || undefined });
      reviewConsole = await startReviewConsole({
        governor: consoleClient,
        secret: process.env.GOVERNOR_CONSOLE_SECRET,
        store,
        host: process.env.GOVERNOR_CONSOLE_HOST || '127.0.0.1',
        port: num('GOVERNOR_CONSOLE_PORT') ?? 8080,
        temporalUiUrl: process.env.GOVERNOR_TEMPORAL_UI_URL || undefined,
        namespace: temporalConnectionConfig().namespace,
        redact: [...DEFAULT_CONSOLE_REDACT, ...(process.env.GOVERNOR_CONSOLE_REDACT ?? '').split(',').map((p) => p.trim()).filter(Boolean)],
      });
    } catch (err) {
      await consoleClient?.close();
      await temporalConnection.close();
      await store.close();
      return fail(`reviewer console: ${(err as Error).message}`, 2);
    }
  }
  // Test hook for exactly-once tests: die (as a crash would) right after the named tool's effect committed, before
  // the activity reports completion.
  const crashAfter = process.env.GOVERNOR_TEST_CRASH_AFTER_EFFECT;
  const hooks = crashAfter ? { afterEffect: (e: { tool: string }) => void (e.tool === crashAfter && process.kill(process.pid, 'SIGKILL')) } : undefined;
  let worker;
  const prebuilt = !codec && !tracing && existsSync(PREBUILT_BUNDLE);
  try {
    worker = await createGovernorWorker({
      taskQueue: process.env.GOVERNOR_TASK_QUEUE || undefined,
      activities: supportActivities({ providers, store, breakers, policy, temporal, hooks, ...(spend ? { spend } : {}) }),
      reads: SUPPORT_READS,
      // The bundle written at build time (`npm run build:image`) when the worker runs as built, without a codec or
      // tracing (which the bundle must be built with); otherwise bundled here at start.
      workflows: prebuilt ? { codePath: PREBUILT_BUNDLE } : { workflowsPath: SUPPORT_WORKFLOWS_PATH },
      maxCachedWorkflows: num('GOVERNOR_MAX_CACHED_WORKFLOWS') ?? DEFAULT_MAX_CACHED_WORKFLOWS,
      codec,
      claimCheck,
      tracing,
    });
  } catch (err) {
    await reviewConsole?.close();
    await consoleClient?.close();
    await temporalConnection.close();
    await store.close();
    return fail((err as Error).message, 1);
  }
  const metrics = await startMetricsServer(breakers, {
    host: process.env.GOVERNOR_METRICS_HOST || '127.0.0.1',
    port: num('GOVERNOR_METRICS_PORT') ?? 9464,
    store,
    runtimeMetrics: `http://${runtimeMetrics}/metrics`,
    registries: reviewConsole ? [reviewConsole.registry] : [],
    // The container's healthcheck: healthy while the worker polls.
    health: () => worker.worker.getState() === 'RUNNING',
  }).catch((err: Error) => {
    process.stderr.write(`governor worker: metrics not served (${err.message})\n`);
    return undefined;
  });
  let codecServer: CodecServer | undefined;
  if (codec && process.env.GOVERNOR_CODEC_TOKEN) {
    codecServer = await startCodecServer({
      codec,
      ...(claimCheck ? { claimCheck } : {}),
      token: process.env.GOVERNOR_CODEC_TOKEN,
      corsOrigins: (process.env.GOVERNOR_CODEC_CORS || 'http://127.0.0.1:8233').split(',').map((o) => o.trim()),
      host: process.env.GOVERNOR_CODEC_HOST || '127.0.0.1',
      port: Number(process.env.GOVERNOR_CODEC_PORT || 8888),
    });
  }
  // SLOs with breach actions: evaluated from the Prometheus that scrapes the workers.
  const sloMonitor = process.env.GOVERNOR_PROMETHEUS_URL
    ? createSloMonitor({
        slos: SUPPORT_SLOS,
        prometheusUrl: process.env.GOVERNOR_PROMETHEUS_URL,
        store,
        intervalMs: num('GOVERNOR_SLO_INTERVAL_MS') ?? 30_000,
        onError: (err) => process.stderr.write(`governor worker: SLO monitor: ${err.message}\n`),
        onTransition: (status, breached) =>
          process.stderr.write(`governor worker: SLO ${status.name} ${breached ? `breached; acting: ${status.actions.join(', ') || 'nothing declared'}` : 'recovered'}\n`),
      })
    : undefined;
  sloMonitor?.start();
  let relay: OutboxRelay | undefined;
  if (process.env.GOVERNOR_SMTP_URL) {
    const smtp = new URL(process.env.GOVERNOR_SMTP_URL);
    await ensureRelaySchema(store.db);
    relay = createOutboxRelay({
      store,
      transport: { host: smtp.hostname, port: Number(smtp.port || 25), secure: smtp.protocol === 'smtps:', ignoreTLS: smtp.protocol === 'smtp:' },
      from: process.env.GOVERNOR_MAIL_FROM || 'governor@governor.local',
      onError: (err) => process.stderr.write(`governor worker: outbox relay: ${(err as Error).message}\n`),
    });
    relay.start();
  }
  process.stderr.write(
    `governor worker: polling on ${address}, providers ${providers.configured.join(', ')}, store ${store.db.describe}, policy ${policy.version}` +
      `, workflow bundle ${prebuilt ? 'prebuilt' : 'built at start'}` +
      `${metrics ? `, metrics ${metrics.url}/metrics` : ''}${relay ? `, relaying email to ${process.env.GOVERNOR_SMTP_URL}` : ''}` +
      `${tracing ? `, traces to ${process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_ENDPOINT}` : ''}` +
      `${codec ? `, payloads encrypted (key ${process.env.GOVERNOR_CODEC_KEY_ID || 'first listed'})` : ''}${codecServer ? `, codec server ${codecServer.url}` : ''}` +
      `${reviewConsole ? `, reviewer console ${reviewConsole.url}` : ''}\n`,
  );
  const stop = () => void worker.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await worker.run();
  await sloMonitor?.stop();
  await relay?.stop();
  await codecServer?.close();
  await reviewConsole?.close();
  await consoleClient?.close();
  await metrics?.close();
  await temporalConnection.close();
  await tracing?.shutdown();
  await store.close();
}

await main();
