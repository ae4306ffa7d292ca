/**
 * The governance tax on latency. One dev server, one model double, one process with two workers: the kit's triage
 * run (context read, cache lookup, the governed model call, validation, the decision tool with its evidence) against
 * plain Temporal making the same model call as one activity, the same plain workflow with two empty local activities
 * around the call (the shape a governed run adds, with none of its work: Temporal's own floor under the kit's figure),
 * and the same call made directly with the SDK; interleaved, the order rotating, so all see the same machine.
 */
import { Client, Connection } from '@temporalio/client';
import Anthropic from '@anthropic-ai/sdk';
import { startHarness, ticketEvent } from '../examples/support/harness.js';
import { classifierRequest } from './plain/activities.js';
import { startPlainWorker } from './plain/worker.js';
import { percentile, slowTriage, TICKET, type Figure } from './common.js';

export interface LatencyOptions {
  /** Interleaved samples of each at the base latency. */
  readonly runs: number;
  readonly latencyMs: number;
  /** Samples of the kit and the direct call when the model takes `slowLatencyMs`. */
  readonly slowRuns: number;
  readonly slowLatencyMs: number;
  readonly log: (line: string) => void;
}

export async function measureLatency(o: LatencyOptions): Promise<Figure[]> {
  const h = await startHarness({ modelTimeoutMs: 60_000 });
  const plain = await startPlainWorker({ address: h.server.address, anthropicBaseURL: h.double.anthropicBaseURL });
  const connection = await Connection.connect({ address: h.server.address });
  const client = new Client({ connection });
  const direct = new Anthropic({ apiKey: 'bench', baseURL: h.double.anthropicBaseURL, maxRetries: 0, timeout: 60_000 });
  const kitRun = async (): Promise<number> => {
    const t = performance.now();
    const { workflowId } = await h.client.startTriage(ticketEvent(TICKET));
    const result = await h.client.triageResult(workflowId);
    if (result.outcome !== 'auto_applied') throw new Error(`unexpected outcome ${result.outcome}`);
    return performance.now() - t;
  };
  let n = 0;
  const plainOf = (workflow: 'plainClassify' | 'plainClassifyWithLocalSteps') => async (): Promise<number> => {
    const event = ticketEvent(TICKET);
    const t = performance.now();
    const answer = await client.workflow.execute(workflow, { taskQueue: plain.taskQueue, workflowId: `plain-${process.pid}-${++n}`, args: [event] });
    if (!answer) throw new Error('the plain workflow got no classification');
    return performance.now() - t;
  };
  const plainRun = plainOf('plainClassify');
  // The floor under the kit's figure: plain Temporal with the two local steps a governed run adds, left empty.
  const floorRun = plainOf('plainClassifyWithLocalSteps');
  const directCall = async (): Promise<number> => {
    const request = classifierRequest(ticketEvent(TICKET));
    const t = performance.now();
    await direct.messages.create(request);
    return performance.now() - t;
  };
  const kit: number[] = [];
  const plainT: number[] = [];
  const floorT: number[] = [];
  const directT: number[] = [];
  const kitSlow: number[] = [];
  const directSlow: number[] = [];
  try {
    slowTriage(h, o.latencyMs);
    // Warm both bundles, both connections and the double.
    const series = new Map([
      [kitRun, kit],
      [plainRun, plainT],
      [floorRun, floorT],
      [directCall, directT],
    ]);
    const fs = [...series.keys()];
    for (let i = 0; i < 3; i++) for (const f of fs) await f();
    for (let i = 0; i < o.runs; i++) {
      // Each in turn goes first, so none is always measured right after the same other.
      const order = [...fs.slice(i % fs.length), ...fs.slice(0, i % fs.length)];
      for (const f of order) series.get(f)!.push(await f());
      if ((i + 1) % 10 === 0) o.log(`latency ${o.latencyMs} ms: ${i + 1}/${o.runs}`);
    }
    slowTriage(h, o.slowLatencyMs);
    for (let i = 0; i < o.slowRuns; i++) {
      if (i % 2 === 0) {
        kitSlow.push(await kitRun());
        directSlow.push(await directCall());
      } else {
        directSlow.push(await directCall());
        kitSlow.push(await kitRun());
      }
    }
  } finally {
    await connection.close();
    await plain.close();
    await h.close();
  }
  const p = (xs: number[], q: number) => percentile(xs, q);
  const ms = (xs: number[]) => `p50 ${p(xs, 50).toFixed(0)} / p95 ${p(xs, 95).toFixed(0)} ms`;
  o.log(`model at ${o.latencyMs} ms, ${o.runs} interleaved runs: kit ${ms(kit)}, plain Temporal ${ms(plainT)}, plain with two empty local activities ${ms(floorT)}, direct SDK ${ms(directT)}`);
  const floor = `plain with two empty local activities ${(p(floorT, 50) / p(plainT, 50)).toFixed(2)}`;
  o.log(`model at ${o.slowLatencyMs} ms, ${o.slowRuns} runs: kit ${ms(kitSlow)}, direct SDK ${ms(directSlow)}`);
  return [
    { name: `latency p50, kit ÷ plain Temporal (${o.latencyMs} ms)`, value: p(kit, 50) / p(plainT, 50), target: { max: 1.1 }, detail: `${p(kit, 50).toFixed(0)} vs ${p(plainT, 50).toFixed(0)} ms (${floor})` },
    { name: `latency p95, kit ÷ plain Temporal (${o.latencyMs} ms)`, value: p(kit, 95) / p(plainT, 95), target: { max: 1.2 }, detail: `${p(kit, 95).toFixed(0)} vs ${p(plainT, 95).toFixed(0)} ms` },
    { name: `latency p50, kit ÷ direct SDK (${o.slowLatencyMs} ms)`, value: p(kitSlow, 50) / p(directSlow, 50), target: { max: 1.1 }, detail: `${p(kitSlow, 50).toFixed(0)} vs ${p(directSlow, 50).toFixed(0)} ms` },
  ];
}
