/**
 * The support domain on a dev server, in one call: a real Temporal dev server, the model double on loopback, a store
 * and a worker wired to them, and a typed client. What the tests, the benchmarks and `npm run record-histories`
 * start from; started by the caller and stopped by `close()`.
 */
import type { PayloadCodec } from '@temporalio/common';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { ModelDouble, startDevServer, type DevServer, type Responder } from 'governor/testing';
import {
  BreakerRegistry,
  ClaimCheckCodec,
  bundleWorkflows,
  createGovernorWorker,
  createProviders,
  installRuntime,
  spendLimits,
  type SpendLimitsInput,
  type BreakerSettings,
  type GovernorWorker,
  type Store,
  type Tracing,
} from 'governor/worker';
import { SupportClient } from './client.js';
import { supportSearchAttributes } from './definitions.js';
import { governorResponder } from './double/agent-responders.js';
import { openSupportStore, SUPPORT_READS, SUPPORT_WORKFLOWS_PATH, supportActivities } from './setup.js';

export interface Harness {
  readonly server: DevServer;
  readonly double: ModelDouble;
  readonly store: Store;
  readonly client: SupportClient;
  /** The in-process worker (undefined with `worker: false`). */
  worker: GovernorWorker | undefined;
  readonly breakers: BreakerRegistry;
  readonly bundle: WorkflowBundleWithSourceMap;
  /** Replaces the worker (same store, same double), as a restart would. */
  restartWorker(): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** SDK timeout per model request; short so hang tests finish quickly. */
  readonly modelTimeoutMs?: number;
  readonly fallback?: Responder | null;
  /** Circuit breaker settings for the worker's shared registry. */
  readonly breakers?: BreakerSettings;
  /** Start a worker in this process (default true); false for tests that run worker processes of their own. */
  readonly worker?: boolean;
  /** Holds each named tool's execution this long (ms) before its transaction, as a slow external system would. */
  readonly toolDelayMs?: Readonly<Record<string, number>>;
  /** Encrypts payloads on the worker and the client (and failure messages). */
  readonly codec?: PayloadCodec;
  /** A PostgreSQL store (default: in-memory PGlite). */
  readonly databaseUrl?: string;
  /** Runs before each tool's transaction, inside its circuit breaker; throw to play a broken downstream system. */
  readonly beforeEffect?: (tool: string) => Promise<void>;
  /** OpenTelemetry tracing on the worker, its bundle and the client. */
  readonly tracing?: Tracing;
  /** Keep payloads above this many bytes in the store (claim check) on the worker and the client. */
  readonly claimCheckBytes?: number;
  /** Shared spend limits on the worker's model calls: a daily ceiling, token rates per provider. */
  readonly spend?: SpendLimitsInput;
}

/**
 * One real Temporal dev server, one model double on loopback, an in-memory store and a worker wired to them:
 * what a test file needs, started once per file and stopped by `close()`.
 */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  // Activity failures are the point of several tests; the SDK's warning for each would bury the report.
  installRuntime('ERROR');
  const server = await startDevServer({ searchAttributes: Object.values(supportSearchAttributes) });
  const double = await ModelDouble.start({ fallback: options.fallback === null ? undefined : (options.fallback ?? governorResponder) });
  const store = await openSupportStore({ databaseUrl: options.databaseUrl });
  const providers = createProviders({
    anthropic: { apiKey: 'test-key', baseURL: double.anthropicBaseURL },
    openai: { apiKey: 'test-key', baseURL: double.openaiBaseURL },
    timeoutMs: options.modelTimeoutMs ?? 2_000,
  });
  const breakers = new BreakerRegistry(options.breakers);
  const claimCheck = options.claimCheckBytes ? new ClaimCheckCodec({ store, thresholdBytes: options.claimCheckBytes }) : undefined;
  const client = await SupportClient.connect({ address: server.address, codec: options.codec, claimCheck, tracing: options.tracing });
  const delays = options.toolDelayMs ?? {};
  const activities = supportActivities({
    providers,
    store,
    breakers,
    temporal: client.client,
    ...(options.spend ? { spend: spendLimits(options.spend) } : {}),
    hooks: {
      beforeEffect:
        options.beforeEffect ?? (async (tool) => void (delays[tool] ? await new Promise((r) => setTimeout(r, delays[tool])) : undefined)),
    },
  });
  const bundle = await bundleWorkflows({ workflowsPath: SUPPORT_WORKFLOWS_PATH, encryptFailures: options.codec !== undefined, tracing: options.tracing });
  const startWorker = async () => {
    const w = await createGovernorWorker({ address: server.address, activities, reads: SUPPORT_READS, workflows: bundle, codec: options.codec, claimCheck, tracing: options.tracing });
    void w.run();
    return w;
  };
  const harness: Harness = {
    server,
    double,
    store,
    client,
    bundle,
    breakers,
    worker: options.worker === false ? undefined : await startWorker(),
    async restartWorker() {
      await harness.worker?.shutdown();
      harness.worker = await startWorker();
    },
    async close() {
      await client.close();
      await harness.worker?.shutdown();
      await double.close();
      await store.close();
      await server.stop();
    },
  };
  return harness;
}

let seq = 0;

/** A valid `support_ticket.created` event; every call gets a fresh event id unless one is given. */
export function ticketEvent(
  overrides: { subject?: string; body?: string; eventId?: string; plan?: string; customerId?: string; sameText?: boolean } = {},
) {
  seq++;
  const unique = `${process.pid}_${Date.now().toString(36)}_${seq}`;
  return {
    event: 'support_ticket.created',
    event_id: overrides.eventId ?? `evt_${unique}`,
    created_at: '2026-11-21T14:22:10Z',
    ticket: {
      id: `tkt_${unique}`,
      subject: overrides.subject ?? 'Charged twice after upgrading',
      // A unique reference keeps identical tickets from being answered by the response cache, unless a test asks.
      body: `${overrides.body ?? 'I upgraded to Pro yesterday and see two charges on my card.'}${overrides.sameText ? '' : ` [ref ${unique}]`}`,
      channel: 'email',
      language: 'en',
    },
    customer: { id: overrides.customerId ?? 'cus_1188', plan: overrides.plan ?? 'pro', arr: 2400, region: 'us' },
  };
}

/** A valid `complaint.received` event with fresh ids (ticket and customer may be shared on purpose). */
export function complaintEvent(over: { subject?: string; body?: string; ticketId?: string; customerId?: string } = {}) {
  seq++;
  const u = `${process.pid}_${Date.now().toString(36)}_${seq}`;
  return {
    event: 'complaint.received',
    event_id: `evt_c${u}`,
    created_at: '2026-11-22T10:00:00Z',
    complaint: {
      id: `cmp_${u}`,
      ticket_id: over.ticketId ?? `tkt_${u}`,
      subject: over.subject ?? 'Card payment failed again',
      body: over.body ?? 'This is the third time my card payment failed this month. Unacceptable.',
      channel: 'email',
    },
    customer: { id: over.customerId ?? `cus_${u}`, plan: 'pro', arr: 2400, region: 'us' },
  };
}

/** Polls until `check` returns a value (not undefined) or the time runs out; the error says what was awaited. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

