import type { EvidenceRecord } from '../contracts/evidence.js';
import type { VerifyReport } from '../activities/evidence.js';

export interface EvidenceSourceOptions {
  readonly databaseUrl?: string;
  readonly dataDir?: string;
  readonly metricsUrl: string;
}

export interface EvidenceSource {
  readonly describe: string;
  list(workflowId: string): Promise<EvidenceRecord[]>;
  verify(workflowId?: string): Promise<VerifyReport>;
  close(): Promise<void>;
}

/**
 * Where the CLI reads evidence: a PostgreSQL server (`DATABASE_URL`) or an embedded store directory, directly; else
 * the worker that owns the embedded store, over its loopback HTTP endpoint (an embedded database has one owner).
 */
export async function evidenceSource(opts: EvidenceSourceOptions): Promise<EvidenceSource> {
  if (opts.databaseUrl || opts.dataDir) {
    // Loaded only here: the worker-backed path must not pay for a database driver.
    const { openStore } = await import('../activities/store.js');
    const { evidenceForWorkflow, verifyEvidence } = await import('../activities/evidence.js');
    // Read-only: an auditor's database role need not be allowed to change the schema.
    const store = await openStore({ databaseUrl: opts.databaseUrl, dataDir: opts.dataDir, migrate: false });
    return {
      describe: store.db.describe,
      list: (id) => evidenceForWorkflow(store, id),
      verify: (id) => verifyEvidence(store, id),
      close: () => store.close(),
    };
  }
  const base = opts.metricsUrl.replace(/\/$/, '');
  const get = async <T>(path: string): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      throw new Error(`cannot reach the worker at ${base} (${(err as Error).message}); is one running? Or pass --data-dir / DATABASE_URL`);
    }
    if (!res.ok) throw new Error(`the worker at ${base} answered HTTP ${res.status}: ${(await res.text()).trim()}`);
    return (await res.json()) as T;
  };
  return {
    describe: `the worker at ${base}`,
    list: (id) => get(`/evidence?workflow=${encodeURIComponent(id)}`),
    verify: (id) => get(`/verify${id ? `?workflow=${encodeURIComponent(id)}` : ''}`),
    close: async () => undefined,
  };
}
