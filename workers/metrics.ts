import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { BreakerRegistry } from '../activities/breakers.js';
import { evidenceForWorkflow, verifyEvidence } from '../activities/evidence.js';
import { gradesTotal, listReviewRecords, ReviewInputInvalid } from '../activities/reviews.js';
import type { Store } from '../activities/store.js';

/** Circuit states as a gauge value: 0 closed, 1 half-open, 2 open, 3 isolated. */
const STATE_VALUE = { closed: 0, half_open: 1, open: 2, isolated: 3 } as const;

export interface MetricsServer {
  readonly url: string;
  close(): Promise<void>;
}

/** A free port on loopback, for the SDK runtime's own Prometheus endpoint that `startMetricsServer` serves through. */
export async function loopbackMetricsAddress(): Promise<string> {
  const server = createNetServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `127.0.0.1:${port}`;
}

export interface MetricsServerOptions {
  /** Default 0 (a free port). */
  readonly port?: number;
  /** Default 127.0.0.1; `0.0.0.0` to be scraped from outside a container. */
  readonly host?: string;
  readonly store?: Store;
  /**
   * The SDK runtime's Prometheus endpoint (`installRuntime(…, { metricsAddress })`, on loopback): its metrics — the
   * SDK's own and Governor's workflow and tool metrics — are served with this server's, so Prometheus scrapes one
   * endpoint per worker.
   */
  readonly runtimeMetrics?: string;
  /** Answers `/healthz` (200 when true, 503 when false): the container's healthcheck. Without it `/healthz` is 200. */
  readonly health?: () => boolean;
  /** Other registries served at `/metrics` with this one (the reviewer console's queue and decision metrics). */
  readonly registries?: readonly Registry[];
}

/**
 * Serves the worker's metrics for Prometheus at `/metrics` — process metrics (CPU, memory, event-loop lag, heap),
 * the circuit breakers and, through `runtimeMetrics`, the SDK's and Governor's workflow metrics —, the breakers as
 * JSON at `/breakers` (what `governor breakers` reads) and, given the store, a run's evidence at
 * `/evidence?workflow=<id>`, the chain check at `/verify[?workflow=<id>]` and the review records at
 * `/reviews[?since=&kind=&workflowType=&limit=]` (what `governor evidence`, `governor verify` and
 * `governor eval export-corrections` read when the embedded store is owned by this process). Read-only; listens on loopback unless
 * told otherwise.
 */
export async function startMetricsServer(breakers: BreakerRegistry, options: MetricsServerOptions = {}): Promise<MetricsServer> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const runtimeMetrics = async (): Promise<string> => {
    if (!options.runtimeMetrics) return '';
    // The runtime endpoint is this process's own; if it does not answer, the rest is still served.
    const res = await fetch(options.runtimeMetrics, { signal: AbortSignal.timeout(5_000) }).catch(() => null);
    return res?.ok ? await res.text() : '';
  };
  // Grades are counted where they are accepted (`gradeRun`, called by the console in this process).
  registry.registerMetric(gradesTotal);
  const snapshot = () => breakers.snapshot();
  new Gauge({
    name: 'governor_circuit_state',
    help: 'Circuit breaker state per provider or tool: 0 closed, 1 half-open, 2 open, 3 isolated.',
    labelNames: ['name'],
    registers: [registry],
    collect() {
      this.reset();
      for (const b of snapshot()) this.set({ name: b.name }, STATE_VALUE[b.state]);
    },
  });
  new Counter({
    name: 'governor_circuit_opened_total',
    help: 'Times the circuit opened.',
    labelNames: ['name'],
    registers: [registry],
    collect() {
      this.reset();
      for (const b of snapshot()) this.inc({ name: b.name }, b.opened);
    },
  });
  new Counter({
    name: 'governor_circuit_rejected_total',
    help: 'Calls refused fast because the circuit was open.',
    labelNames: ['name'],
    registers: [registry],
    collect() {
      this.reset();
      for (const b of snapshot()) this.inc({ name: b.name }, b.rejected);
    },
  });

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (options.store && url.pathname === '/evidence') {
        const workflow = url.searchParams.get('workflow');
        if (!workflow) return json(400, { error: 'workflow: required query parameter' });
        return json(200, await evidenceForWorkflow(options.store, workflow));
      }
      if (options.store && url.pathname === '/verify') {
        return json(200, await verifyEvidence(options.store, url.searchParams.get('workflow') ?? undefined));
      }
      if (options.store && url.pathname === '/reviews') {
        const q = url.searchParams;
        const limit = q.get('limit');
        try {
          return json(
            200,
            await listReviewRecords(options.store, {
              since: q.get('since') ?? undefined,
              kind: (q.get('kind') ?? undefined) as 'correction' | 'grade' | undefined,
              workflowType: q.get('workflowType') ?? undefined,
              limit: limit === null ? undefined : Number(limit),
            }),
          );
        } catch (err) {
          if (err instanceof ReviewInputInvalid) return json(400, { error: err.message });
          throw err;
        }
      }
      if (url.pathname === '/healthz') {
        const healthy = options.health?.() ?? true;
        return json(healthy ? 200 : 503, { status: healthy ? 'ok' : 'unhealthy' });
      }
      if (req.url === '/metrics') {
        const merged = options.registries?.length ? Registry.merge([registry, ...options.registries]) : registry;
        const [own, runtime] = await Promise.all([merged.metrics(), runtimeMetrics()]);
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(`${own}\n${runtime}`);
      } else if (req.url === '/breakers') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(snapshot()));
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end(`not found: try /metrics, /healthz, /breakers${options.store ? ', /evidence?workflow=<id>, /verify or /reviews' : ''}\n`);
      }
    })().catch((err: Error) => {
      res.writeHead(500);
      res.end(err.message);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
