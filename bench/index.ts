/**
 * `npm run bench`: the governance tax, four figures, each a ratio measured side by side in one run and held to its
 * target. (1) Latency: a triage run on the kit against plain Temporal making the same model call as one activity
 * (same server, same worker process, same double), and the kit against the direct SDK call when the model takes a
 * second. (2) Throughput: runs started at once, governed ÷ plain, with the embedded store and with PostgreSQL.
 * (3) History: a complaint run's events and bytes against what it wrote before. (4) Parked runs: the built worker's
 * memory per run waiting for review, its idle footprint, and the time to drain a bulk of decisions.
 *
 *   npm run bench -- [--only latency,throughput,history,parked] [--runs 30] [--latency 200] [--batch 200] [--parked 2000]
 */
import { parseArgs } from 'node:util';
import { formatFigure, meets, type Figure } from './common.js';
import { measureHistory } from './history.js';
import { measureLatency } from './latency.js';
import { measureParked } from './parked.js';
import { measureThroughput } from './throughput.js';

const { values } = parseArgs({
  options: {
    only: { type: 'string', default: 'latency,throughput,history,parked' },
    runs: { type: 'string', default: '30' },
    latency: { type: 'string', default: '200' },
    batch: { type: 'string', default: '200' },
    parked: { type: 'string', default: '2000' },
  },
});
const sections = new Set(values.only.split(','));
const log = (line: string) => process.stderr.write(`${line}\n`);
const figures: Figure[] = [];
const latencyMs = Number(values.latency);

if (sections.has('latency')) figures.push(...(await measureLatency({ runs: Number(values.runs), latencyMs, slowRuns: 8, slowLatencyMs: 1000, log })));
if (sections.has('throughput')) {
  for (const store of ['embedded', 'postgres'] as const) figures.push(await measureThroughput({ runs: Number(values.batch), rounds: 2, latencyMs, store, log }));
}
if (sections.has('history')) figures.push((await measureHistory({ log })).figure);
if (sections.has('parked')) figures.push(...(await measureParked({ runs: Number(values.parked), concurrency: 32, store: 'postgres', log })));

process.stdout.write(`\nthe governance tax (model double at ${latencyMs} ms; ratios side by side in this run)\n`);
for (const f of figures) process.stdout.write(`${formatFigure(f)}\n`);
process.stdout.write(`${figures.filter(meets).length} of ${figures.length} within target\n`);
