/**
 * Throughput: a batch of runs started at once, governed triage runs against plain-Temporal runs making the same model
 * call, on one dev server and one worker process, each batch timed from the first start to the last result. Batches
 * alternate (plain, governed, plain, governed) so both see the same machine; the ratio is of the summed rates.
 */
import { Client, Connection } from '@temporalio/client';
import { startHarness, ticketEvent } from '../examples/support/harness.js';
import { startPostgres } from 'governor/testing';
import { startPlainWorker } from './plain/worker.js';
import { slowTriage, TICKET, type Figure } from './common.js';

export interface ThroughputOptions {
  readonly runs: number;
  readonly rounds: number;
  readonly latencyMs: number;
  /** `embedded` (PGlite in the worker) or `postgres` (a throwaway PostgreSQL server). */
  readonly store: 'embedded' | 'postgres';
  readonly log: (line: string) => void;
}

export async function measureThroughput(o: ThroughputOptions): Promise<Figure> {
  const pg = o.store === 'postgres' ? await startPostgres() : undefined;
  const h = await startHarness({ modelTimeoutMs: 120_000, ...(pg ? { databaseUrl: pg.url } : {}) });
  const plain = await startPlainWorker({ address: h.server.address, anthropicBaseURL: h.double.anthropicBaseURL });
  const connection = await Connection.connect({ address: h.server.address });
  const client = new Client({ connection });
  slowTriage(h, o.latencyMs);
  let n = 0;
  const governedBatch = async (): Promise<number> => {
    const t = performance.now();
    const started = await Promise.all(Array.from({ length: o.runs }, () => h.client.startTriage(ticketEvent(TICKET))));
    const results = await Promise.all(started.map((s) => h.client.triageResult(s.workflowId)));
    const ms = performance.now() - t;
    const off = results.filter((r) => r.outcome !== 'auto_applied');
    if (off.length > 0) throw new Error(`${off.length} governed runs ended ${off[0]!.outcome}`);
    return ms;
  };
  const plainBatch = async (): Promise<number> => {
    const t = performance.now();
    const handles = await Promise.all(
      Array.from({ length: o.runs }, () =>
        client.workflow.start('plainClassify', { taskQueue: plain.taskQueue, workflowId: `plain-tp-${process.pid}-${++n}`, args: [ticketEvent(TICKET)] }),
      ),
    );
    await Promise.all(handles.map((hd) => hd.result()));
    return performance.now() - t;
  };
  let governedMs = 0;
  let plainMs = 0;
  try {
    // Warm both workers.
    await plainBatch();
    await governedBatch();
    for (let r = 0; r < o.rounds; r++) {
      const p = await plainBatch();
      const g = await governedBatch();
      plainMs += p;
      governedMs += g;
      o.log(`throughput (${o.store}) round ${r + 1}/${o.rounds}: ${o.runs} plain runs in ${(p / 1000).toFixed(2)} s, ${o.runs} governed in ${(g / 1000).toFixed(2)} s`);
    }
  } finally {
    await connection.close();
    await plain.close();
    await h.close();
    await pg?.stop();
  }
  const total = o.runs * o.rounds;
  const governedRate = total / (governedMs / 1000);
  const plainRate = total / (plainMs / 1000);
  return {
    name: `throughput, governed ÷ plain (${o.runs} at once, ${o.store === 'postgres' ? 'PostgreSQL' : 'embedded store'})`,
    value: governedRate / plainRate,
    target: { min: 0.9 },
    detail: `${governedRate.toFixed(1)} vs ${plainRate.toFixed(1)} runs/s`,
  };
}
