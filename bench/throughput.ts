/**
 * Throughput: a batch of runs started at once, governed triage runs against plain-Temporal runs making the same model
 * call, on one dev server and one worker process, each batch timed from the first start to the last result. Batches
 * alternate (plain, governed, plain, governed) so both see the same machine; the ratio is of the summed rates.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startHarness, ticketEvent } from '../examples/support/harness.js';
import { startPostgres } from 'governor/testing';
import { startPlainWorker } from './plain/worker.js';
import { ownCpuMs, processTreeCpuMs, slowTriage, TICKET, type Figure } from './common.js';

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
  // Where the CPU goes, per batch: the dev server, this process (both workers, the double and the client; the other
  // worker idles while a batch runs) and PostgreSQL's processes.
  const pgPid = pg ? Number((await readFile(join(pg.dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]) : null;
  const cpu = { plain: { server: 0, worker: 0, postgres: 0 }, governed: { server: 0, worker: 0, postgres: 0 } };
  const measured = async (kind: 'plain' | 'governed', batch: () => Promise<number>): Promise<number> => {
    const read = () => ({ server: (h.server.pid && processTreeCpuMs(h.server.pid)) || 0, worker: ownCpuMs(), postgres: (pgPid && processTreeCpuMs(pgPid)) || 0 });
    const before = read();
    const ms = await batch();
    const after = read();
    for (const k of ['server', 'worker', 'postgres'] as const) cpu[kind][k] += after[k] - before[k];
    return ms;
  };
  let governedMs = 0;
  let plainMs = 0;
  try {
    // Warm both workers.
    await plainBatch();
    await governedBatch();
    for (let r = 0; r < o.rounds; r++) {
      const p = await measured('plain', plainBatch);
      const g = await measured('governed', governedBatch);
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
  const perRun = (c: { server: number; worker: number; postgres: number }) => (c.server + c.worker + c.postgres) / total;
  const parts = (c: { server: number; worker: number; postgres: number }) =>
    `server ${(c.server / total).toFixed(1)}, worker process ${(c.worker / total).toFixed(1)}${pg ? `, PostgreSQL ${(c.postgres / total).toFixed(1)}` : ''}`;
  const cpuRatio = perRun(cpu.governed) / perRun(cpu.plain);
  o.log(
    `throughput (${o.store}) CPU per run: plain ${perRun(cpu.plain).toFixed(1)} ms (${parts(cpu.plain)}), governed ${perRun(cpu.governed).toFixed(1)} ms (${parts(cpu.governed)}): ${cpuRatio.toFixed(2)}×`,
  );
  return {
    name: `throughput, governed ÷ plain (${o.runs} at once, ${o.store === 'postgres' ? 'PostgreSQL' : 'embedded store'})`,
    value: governedRate / plainRate,
    target: { min: 0.9 },
    detail: `${governedRate.toFixed(1)} vs ${plainRate.toFixed(1)} runs/s; CPU per run ${cpuRatio.toFixed(2)}× plain's`,
  };
}
