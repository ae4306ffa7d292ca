/**
 * Parked runs and footprint. (a) An idle worker process of the reference deployment as built (compiled JS, the
 * workflow bundle written at build time) against the same worker run from source (tsx, bundling at start). (b) Runs
 * parked on review: N triage runs of high-stakes tickets wait for a person on one built worker; the worker's resident
 * memory before and after, the dev server's database and the store per parked run. (c) Decisions sent for all of them
 * at once: every run resumed (most from history, evicted from the worker's cache) and completed; the time to drain.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelDouble, startDevServer, startPostgres, type PostgresServer } from 'governor/testing';
import { governorResponder } from '../examples/support/double/agent-responders.js';
import { supportSearchAttributes } from '../examples/support/definitions.js';
import { SupportClient } from '../examples/support/client.js';
import { openSupportStore } from '../examples/support/setup.js';
import { ticketEvent } from '../examples/support/harness.js';
import { ensureBuiltWorker, spawnSupportWorker, type Figure } from './common.js';

/** Megabytes under a directory (a file's own size when given a file), as `du` counts them. */
function duMb(path: string): number {
  if (!existsSync(path)) return 0;
  return Number(execFileSync('du', ['-sk', path], { encoding: 'utf8' }).split('\t')[0]) / 1024;
}

async function settle<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Runs `fn` over `items` with at most `concurrency` at once. */
async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

export interface ParkedOptions {
  readonly runs: number;
  readonly concurrency: number;
  /** Where the worker keeps its store: embedded PGlite in its process, or a PostgreSQL server. */
  readonly store: 'embedded' | 'postgres';
  readonly log: (line: string) => void;
}

export async function measureParked(o: ParkedOptions): Promise<Figure[]> {
  ensureBuiltWorker(o.log);
  const dir = await mkdtemp(join(tmpdir(), 'governor-parked-'));
  const dbFile = join(dir, 'temporal.db');
  const server = await startDevServer({ dbFile, searchAttributes: Object.values(supportSearchAttributes) });
  const double = await ModelDouble.start({ fallback: governorResponder });
  const client = await SupportClient.connect({ address: server.address });
  const workers: Array<{ stop(): Promise<void> }> = [];
  let pg: PostgresServer | undefined;
  try {
    pg = o.store === 'postgres' ? await startPostgres() : undefined;
    const env = { DATABASE_URL: pg?.url ?? '', ...(process.env.GOVERNOR_MAX_CACHED_WORKFLOWS ? { GOVERNOR_MAX_CACHED_WORKFLOWS: process.env.GOVERNOR_MAX_CACHED_WORKFLOWS } : {}) };
    // (a) Idle: each worker polls an empty queue for a while before it is measured.
    const idle = async (built: boolean) => {
      const w = await spawnSupportWorker({ address: server.address, anthropicBaseURL: double.anthropicBaseURL, dataDir: join(dir, `idle-${built}`), taskQueue: `idle-${built}`, built, env });
      workers.push(w);
      await new Promise((r) => setTimeout(r, 5000));
      const mb = await w.rssMb();
      await w.stop();
      return mb;
    };
    const idleSource = await idle(false);
    const idleBuilt = await idle(true);
    o.log(`idle worker (${o.store} store): ${idleBuilt.toFixed(0)} MB as built, ${idleSource.toFixed(0)} MB from source (bundling at start)`);

    // (b) Parked.
    const storeDir = join(dir, 'store');
    const worker = await spawnSupportWorker({ address: server.address, anthropicBaseURL: double.anthropicBaseURL, dataDir: storeDir, built: true, env });
    workers.push(worker);
    // Warm: a few runs through, so what is measured next is the runs, not first-use allocations.
    const warm = await Promise.all(Array.from({ length: 20 }, () => client.startTriage(ticketEvent({ subject: 'Auto top up', body: 'How do I use auto top up?' }))));
    await Promise.all(warm.map((w) => client.triageResult(w.workflowId)));
    await new Promise((r) => setTimeout(r, 3000));
    const rssBefore = await worker.rssMb();
    const serverBefore = duMb(dbFile) + duMb(`${dbFile}-wal`);
    // The store's size: the embedded store's directory, or the PostgreSQL database's own count.
    const pgStore = pg ? await openSupportStore({ databaseUrl: pg.url }) : undefined;
    const storeSize = async () =>
      pgStore ? Number((await pgStore.db.query<{ n: string }>('select pg_database_size(current_database())::text as n')).rows[0]!.n) / 1048576 : duMb(storeDir);
    const storeBefore = await storeSize();
    const ids: string[] = [];
    const t0 = performance.now();
    await pool(Array.from({ length: o.runs }, (_, i) => i), o.concurrency, async () => {
      // A lost card: category account, high stakes, so the run waits for a person before any action.
      const { workflowId } = await client.startTriage(ticketEvent({ subject: 'Lost card', body: 'I lost my card, please lock my account' }));
      ids.push(workflowId);
      if (ids.length % 1000 === 0) o.log(`parked: ${ids.length}/${o.runs} started`);
    });
    const awaiting = `WorkflowType = 'supportTicketTriage' AND GovernorAwaitingReview = true AND ExecutionStatus = 'Running'`;
    await settle('every run to wait for review', async () => ((await client.client.workflow.count(awaiting)).count >= o.runs ? true : undefined), 30 * 60_000);
    const parkSeconds = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 5000));
    const rssAfter = await worker.rssMb();
    const serverAfter = duMb(dbFile) + duMb(`${dbFile}-wal`);
    const storeAfter = await storeSize();
    await pgStore?.close();
    const perRun = (rssAfter - rssBefore) / o.runs;
    o.log(
      `${o.runs} runs parked in ${parkSeconds.toFixed(0)} s: worker ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MB (${(perRun * 1024).toFixed(1)} KB per run); ` +
        `server database +${(((serverAfter - serverBefore) * 1024) / o.runs).toFixed(1)} KB per run; store +${(((storeAfter - storeBefore) * 1024) / o.runs).toFixed(1)} KB per run`,
    );

    // (c) Drain: every decision sent at once (bounded by `concurrency` in flight).
    const t1 = performance.now();
    let refused = 0;
    await pool(ids, o.concurrency, async (id) => {
      const answer = await client.review(id, { action: 'approve', reviewerId: 'usr_442' });
      if (answer.status !== 'accepted') refused++;
    });
    await settle('every run to complete', async () => ((await client.client.workflow.count(`WorkflowType = 'supportTicketTriage' AND ExecutionStatus = 'Running'`)).count === 0 ? true : undefined), 30 * 60_000);
    const drainSeconds = (performance.now() - t1) / 1000;
    if (refused > 0) throw new Error(`${refused} decisions were refused`);
    const rssDrained = await worker.rssMb();
    o.log(`drained ${o.runs} decisions in ${drainSeconds.toFixed(0)} s (${(o.runs / drainSeconds).toFixed(0)} per s); worker ${rssDrained.toFixed(0)} MB after`);
    return [
      { name: `memory per parked run (${o.runs} runs, ${o.store}), MB`, value: perRun, target: { max: 0.2 }, detail: `${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MB RSS` },
      { name: `idle worker as built (${o.store}), ÷ 300 MB`, value: idleBuilt / 300, target: { max: 1 }, detail: `${idleBuilt.toFixed(0)} MB (from source: ${idleSource.toFixed(0)} MB)` },
    ];
  } finally {
    for (const w of workers) await w.stop();
    await client.close();
    await double.close();
    await server.stop();
    await pg?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
