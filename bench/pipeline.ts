/**
 * `npm run bench:pipeline`: how close the document pipeline comes to ideal parallelism. A `--chunks`-chunk document
 * (default 200) with the model double answering each chunk after `--latency` ms (default 200), `--concurrency` lanes
 * (default 8): wall time ÷ (slowest chunk × chunks ÷ concurrency), where the slowest chunk is the longest model call
 * the double served.
 *
 *   npm run bench:pipeline -- [--chunks 200] [--concurrency 8] [--latency 200]
 */
import { parseArgs } from 'node:util';
import type { DocumentResult } from '../examples/support/contracts/document.js';
import { chunkResponder } from '../examples/support/double/agent-responders.js';
import { startHarness } from '../examples/support/harness.js';

const { values } = parseArgs({ options: { chunks: { type: 'string', default: '200' }, concurrency: { type: 'string', default: '8' }, latency: { type: 'string', default: '200' } } });
const chunks = Number(values.chunks);
const concurrency = Number(values.concurrency);
const latency = Number(values.latency);

const h = await startHarness({ modelTimeoutMs: 30_000 });
try {
  // Every chunk answered after the same model latency, so the ideal is known.
  h.double.when((req) => req.outputName === 'summarise_chunk', (req) => {
    const reply = chunkResponder(req);
    return reply && reply.kind === 'json' ? { ...reply, delayMs: latency } : reply;
  });
  const paragraph = (i: number) => `Section ${i} of the policy. It says one thing about refunds, fees and timing, at some length so the chunk is a real paragraph. It ends here.`;
  const text = Array.from({ length: chunks }, (_, i) => paragraph(i + 1)).join('\n\n');
  const u = Date.now().toString(36);
  const event = { event: 'document.submitted', event_id: `evt_bench_${u}`, created_at: new Date().toISOString(), document_id: `doc_${u}`, title: 'Bench policy', text };
  const t0 = performance.now();
  const { workflowId } = await h.client.start('documentPipeline', event, { chunkChars: 200, concurrency, budgets: { transportAttempts: 1, maxModelCalls: 4 } });
  const result = await h.client.result<DocumentResult>(workflowId);
  const wall = performance.now() - t0;
  if (result.chunks !== chunks || result.missing.length > 0) throw new Error(`expected ${chunks} summarised chunks, got ${result.chunks} with ${result.missing.length} missing`);
  const ideal = latency * (chunks / concurrency);
  const d = await h.client.client.workflow.getHandle(workflowId).describe();
  process.stdout.write(
    `${chunks} chunks, ${concurrency} at a time, model latency ${latency} ms: wall ${(wall / 1000).toFixed(1)} s; ideal ${(ideal / 1000).toFixed(1)} s ` +
      `(latency × chunks ÷ concurrency); ratio ${(wall / ideal).toFixed(2)}\nhistory: ${d.historyLength} events, ${d.historySize ?? '?'} bytes\n`,
  );
} finally {
  await h.close();
}
