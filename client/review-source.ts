import type { ReviewRecord } from '../contracts/review.js';

export interface ReviewSourceOptions {
  readonly databaseUrl?: string;
  readonly dataDir?: string;
  readonly metricsUrl: string;
}

export interface ReviewQuery {
  readonly since?: Date;
  readonly kind?: 'correction' | 'grade';
  readonly workflowType?: string;
  readonly limit?: number;
}

export interface ReviewSource {
  readonly describe: string;
  list(query?: ReviewQuery): Promise<ReviewRecord[]>;
  close(): Promise<void>;
}

/**
 * Where the CLI reads review records: a PostgreSQL server (`DATABASE_URL`) or an embedded store directory, directly;
 * else the worker that owns the embedded store, over its loopback HTTP endpoint (`/reviews`), as evidence is read.
 */
export async function reviewSource(opts: ReviewSourceOptions): Promise<ReviewSource> {
  if (opts.databaseUrl || opts.dataDir) {
    // Loaded only here: the worker-backed path must not pay for a database driver.
    const { openStore } = await import('../activities/store.js');
    const { listReviewRecords } = await import('../activities/reviews.js');
    const store = await openStore({ databaseUrl: opts.databaseUrl, dataDir: opts.dataDir, migrate: false });
    return { describe: store.db.describe, list: (q = {}) => listReviewRecords(store, q), close: () => store.close() };
  }
  const base = opts.metricsUrl.replace(/\/$/, '');
  return {
    describe: `the worker at ${base}`,
    async list(q = {}) {
      const params = new URLSearchParams();
      if (q.since) params.set('since', q.since.toISOString());
      if (q.kind) params.set('kind', q.kind);
      if (q.workflowType) params.set('workflowType', q.workflowType);
      if (q.limit !== undefined) params.set('limit', String(q.limit));
      let res: Response;
      try {
        res = await fetch(`${base}/reviews?${params}`, { signal: AbortSignal.timeout(10_000) });
      } catch (err) {
        throw new Error(`cannot reach the worker at ${base} (${(err as Error).message}); is one running? Or pass --data-dir / DATABASE_URL`);
      }
      if (!res.ok) throw new Error(`the worker at ${base} answered HTTP ${res.status}: ${(await res.text()).trim()}`);
      return (await res.json()) as ReviewRecord[];
    },
    close: async () => undefined,
  };
}
