/**
 * `npm run bench:overheads`: what encryption and tracing add to a governed run. With the model double fixed at
 * 200 ms per call, it measures side by side, interleaved in one run, (a) a whole triage run on the kit through Temporal — context load, one
 * governed model call, validation, the decision tool with evidence — (b) the same run with every payload encrypted,
 * (c) the same model call made directly with the SDK in a plain loop, and (d) the run on two worker processes of the
 * same build, one exporting OpenTelemetry traces over OTLP and one not, then reports p50, p95 and their ratios.
 *
 *   npm run bench:overheads -- [--runs 30] [--latency 200]
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Anthropic from '@anthropic-ai/sdk';
import { AesGcmPayloadCodec } from 'governor/worker';
import { classifierJsonSchema, renderClassifierMessages, supportTicketClassifier as spec } from '../examples/support/prompts/support-ticket-classifier.js';
import { startHarness, ticketEvent } from '../examples/support/harness.js';
import { spawnSupportWorker } from './common.js';
import { SupportClient } from '../examples/support/client.js';
import { ModelDouble } from 'governor/testing';
import { triageResponder } from '../examples/support/double/triage-responder.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '30' }, latency: { type: 'string', default: '200' } } });
const runs = Number(values.runs);
const latencyMs = Number(values.latency);

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

// A non-escalating ticket: one model call and one tool call per run. The body is made unique per run below so the
// response cache never answers.
const TICKET = { subject: 'Auto top up', body: 'How do I use auto top up?' };

const h = await startHarness({ modelTimeoutMs: 30_000 });
// The same deployment with every payload encrypted (AES-256-GCM, failure messages included): what encryption costs.
const sealed = await startHarness({ modelTimeoutMs: 30_000, codec: new AesGcmPayloadCodec({ current: 'bench', keys: { bench: new Uint8Array(randomBytes(32)) } }) });
const slow = await ModelDouble.start({ fallback: triageResponder, latencyMs });
// The harness's worker talks to its own double; point a second harness-free SDK client and the worker alike at
// the slow one by replacing the harness double's behaviour: every reply is delayed by `latencyMs`.
for (const harness of [h, sealed]) {
  harness.double.setFallback((req) => {
    const reply = triageResponder(req);
    return reply && reply.kind === 'json' ? { ...reply, delayMs: latencyMs } : reply;
  });
}
const direct = new Anthropic({ apiKey: 'bench', baseURL: slow.anthropicBaseURL, maxRetries: 0 });

// Tracing is per process (a global tracer provider), so its cost is measured between two worker processes of the
// same build on their own task queues: one exporting every span over OTLP/HTTP to a receiver here, one not.
const otlp = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
});
await new Promise<void>((r) => otlp.listen(0, '127.0.0.1', r));
const dataDir = await mkdtemp(join(tmpdir(), 'governor-bench-'));
const workerProcess = (queue: string, env: Record<string, string>) =>
  spawnSupportWorker({ address: h.server.address, anthropicBaseURL: h.double.anthropicBaseURL, dataDir: join(dataDir, queue), taskQueue: queue, built: false, env: { GOVERNOR_MODEL_TIMEOUT_MS: '30000', ...env } });
const [untracedWorker, tracedWorker] = await Promise.all([
  workerProcess('bench-untraced', {}),
  workerProcess('bench-traced', { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(otlp.address() as AddressInfo).port}`, OTEL_SERVICE_NAME: 'governor-bench' }),
]);
const untracedClient = await SupportClient.connect({ address: h.server.address, taskQueue: 'bench-untraced' });
const tracedClient = await SupportClient.connect({ address: h.server.address, taskQueue: 'bench-traced' });

const kit: number[] = [];
const encrypted: number[] = [];
const plain: number[] = [];
const untraced: number[] = [];
const traced: number[] = [];
const timed = async (client: SupportClient, into: number[]) => {
  const t = performance.now();
  const { workflowId } = await client.startTriage(ticketEvent(TICKET));
  if ((await client.triageResult(workflowId)).outcome !== 'auto_applied') throw new Error('unexpected outcome');
  into.push(performance.now() - t);
};
try {
  for (const harness of [h, sealed]) await harness.client.triageResult((await harness.client.startTriage(ticketEvent(TICKET))).workflowId);
  for (const client of [untracedClient, tracedClient]) await client.triageResult((await client.startTriage(ticketEvent(TICKET))).workflowId);
  for (let i = 0; i < runs; i++) {
    const event = ticketEvent(TICKET);
    let t = performance.now();
    const { workflowId } = await h.client.startTriage(event);
    const result = await h.client.triageResult(workflowId);
    kit.push(performance.now() - t);
    if (result.outcome !== 'auto_applied') throw new Error(`unexpected outcome ${result.outcome}`);

    t = performance.now();
    const secret = await sealed.client.startTriage(ticketEvent(TICKET));
    if ((await sealed.client.triageResult(secret.workflowId)).outcome !== 'auto_applied') throw new Error('unexpected outcome (encrypted)');
    encrypted.push(performance.now() - t);

    const messages = renderClassifierMessages({ ticket: event.ticket as never, customer: event.customer as never, history: [] });
    t = performance.now();
    await direct.messages.create({
      model: spec.models.anthropic,
      max_tokens: spec.maxOutputTokens,
      system: spec.system,
      messages,
      tools: [{ name: spec.output.name, description: spec.output.description, input_schema: classifierJsonSchema as Anthropic.Tool.InputSchema }],
      tool_choice: { type: 'tool', name: spec.output.name },
    });
    plain.push(performance.now() - t);

    // Alternate which goes first, so neither always runs right after the other.
    if (i % 2 === 0) {
      await timed(untracedClient, untraced);
      await timed(tracedClient, traced);
    } else {
      await timed(tracedClient, traced);
      await timed(untracedClient, untraced);
    }
    process.stderr.write(`\r${i + 1}/${runs}`);
  }
} finally {
  process.stderr.write('\n');
  await untracedClient.close();
  await tracedClient.close();
  await Promise.all([untracedWorker, tracedWorker].map((w) => w.stop()));
  await new Promise((r) => otlp.close(r));
  await rm(dataDir, { recursive: true, force: true });
  await slow.close();
  await h.close();
  await sealed.close();
}

const rows = [
  ['', 'p50 ms', 'p95 ms'],
  ['triage run on the kit', percentile(kit, 50).toFixed(0), percentile(kit, 95).toFixed(0)],
  ['… payloads encrypted', percentile(encrypted, 50).toFixed(0), percentile(encrypted, 95).toFixed(0)],
  ['direct SDK call', percentile(plain, 50).toFixed(0), percentile(plain, 95).toFixed(0)],
  ['ratio to direct', (percentile(kit, 50) / percentile(plain, 50)).toFixed(2), (percentile(kit, 95) / percentile(plain, 95)).toFixed(2)],
  ['ratio encrypted / plain', (percentile(encrypted, 50) / percentile(kit, 50)).toFixed(2), (percentile(encrypted, 95) / percentile(kit, 95)).toFixed(2)],
  ['worker process, untraced', percentile(untraced, 50).toFixed(0), percentile(untraced, 95).toFixed(0)],
  ['worker process, traced', percentile(traced, 50).toFixed(0), percentile(traced, 95).toFixed(0)],
  ['ratio traced / untraced', (percentile(traced, 50) / percentile(untraced, 50)).toFixed(2), (percentile(traced, 95) / percentile(untraced, 95)).toFixed(2)],
];
process.stdout.write(`model double latency ${latencyMs} ms, ${runs} runs each, interleaved\n`);
for (const r of rows) process.stdout.write(`${r[0]!.padEnd(26)} ${r[1]!.padStart(8)} ${r[2]!.padStart(8)}\n`);
