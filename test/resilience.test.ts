import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eventually, localActivityMarkers, startHarness, ticketEvent, type Harness, startWorkerProcess } from './helpers/harness.js';
import type { DoubleReply } from '../testing/model-double.js';
import { startMetricsServer } from '../workers/metrics.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VALID = { category: 'billing', urgency: 'high', confidence: 0.9, reason: 'Duplicate charge after an upgrade.' };
const CHAIN = [
  { provider: 'anthropic' as const, model: 'claude-haiku-4-5' },
  { provider: 'openai' as const, model: 'gpt-4.1-mini' },
];

describe('resilience kit: fallback chain, circuit breaker, budgets, cache', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ modelTimeoutMs: 1_000, fallback: null, breakers: { failures: 3, window: 5, cooldownMs: 2_000 } });
  });
  after(async () => {
    await h?.close();
  });
  beforeEach(() => {
    h.double.reset();
  });

  it('primary down: the breaker opens after N failures, later runs skip it at once, then it half-opens and closes', async () => {
    let primaryUp = false;
    h.double.when((r) => r.provider === 'anthropic', () => (primaryUp ? { kind: 'json', value: VALID } : { kind: 'error', status: 500 }));
    h.double.when((r) => r.provider === 'openai', { kind: 'json', value: VALID });

    const first = await h.client.startTriage(ticketEvent(), { modelChain: CHAIN });
    const r1 = await h.client.triageResult(first.workflowId);
    assert.equal(r1.outcome, 'escalated');
    assert.equal(h.double.count({ provider: 'anthropic' }), 3, 'three attempts on the primary, then the breaker opened');
    const s1 = await h.client.triageState(first.workflowId);
    assert.deepEqual(s1.modelTrail.map((t) => `${t.provider}:${t.event}`), ['anthropic:failed', 'openai:answered']);
    assert.match(s1.modelTrail[0]!.detail, /ModelServerError/);
    assert.equal(h.breakers.snapshot().find((b) => b.name === 'model:anthropic')?.state, 'open');

    const second = await h.client.startTriage(ticketEvent(), { modelChain: CHAIN });
    await h.client.triageResult(second.workflowId);
    assert.equal(h.double.count({ provider: 'anthropic' }), 3, 'no request reached the primary while its circuit was open');
    const s2 = await h.client.triageState(second.workflowId);
    assert.match(s2.modelTrail[0]!.detail, /CircuitOpen/);
    assert.equal(s2.modelTrail[1]!.provider, 'openai');

    primaryUp = true;
    await new Promise((r) => setTimeout(r, 2_100)); // the cool-down
    const third = await h.client.startTriage(ticketEvent(), { modelChain: CHAIN });
    await h.client.triageResult(third.workflowId);
    assert.equal(h.double.count({ provider: 'anthropic' }), 4, 'one probe went through');
    assert.deepEqual((await h.client.triageState(third.workflowId)).modelTrail.map((t) => `${t.provider}:${t.event}`), ['anthropic:answered']);
    assert.equal(h.breakers.snapshot().find((b) => b.name === 'model:anthropic')?.state, 'closed');
  });

  it('breaker state is exported as Prometheus metrics and shown by `governor breakers`', async () => {
    const metrics = await startMetricsServer(h.breakers);
    try {
      const text = await (await fetch(`${metrics.url}/metrics`)).text();
      assert.match(text, /governor_circuit_state\{name="model:anthropic"\} 0/);
      assert.match(text, /governor_circuit_opened_total\{name="model:anthropic"\} 1/);
      assert.match(text, /governor_circuit_rejected_total\{name="model:anthropic"\} 1/);
      // Asynchronously: the metrics server answering it lives in this process.
      const cli = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'client/bin.ts', 'breakers', '--metrics-url', metrics.url], { cwd: ROOT });
      assert.match(cli.stdout, /model:anthropic\s+closed\s+1\s+1/);
      assert.match(cli.stdout, /model:openai\s+closed\s+0\s+0/);
    } finally {
      await metrics.close();
    }
    await assert.rejects(
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'client/bin.ts', 'breakers', '--metrics-url', 'http://127.0.0.1:1'], { cwd: ROOT }),
      (err: { code: number; stderr: string }) => err.code === 1 && /cannot read breakers from http:\/\/127\.0\.0\.1:1/.test(err.stderr),
    );
  });

  it('a USD budget stops the run when the ledger passes it, with the spend in state', async () => {
    h.double.enqueue({ kind: 'text', text: 'not json at all' }, { kind: 'json', value: VALID });
    const { workflowId } = await h.client.startTriage(ticketEvent(), { budgets: { maxUsd: 0.0001 }, reviewDeadline: '1s' });
    const result = await h.client.triageResult(workflowId);
    assert.equal(result.reviewReason, 'budget_exceeded');
    assert.equal(h.double.count(), 1, 'the repair call was not made');
    const state = await h.client.triageState(workflowId);
    assert.equal(state.ledger.modelCalls, 1);
    assert.ok(state.ledger.usd > 0.0001, `ledger ${state.ledger.usd}`);
    const entry = state.ledger.entries[0]!;
    assert.equal(entry.usd, (entry.inputTokens * 1 + entry.outputTokens * 5) / 1_000_000, 'charged at the haiku list price');
    assert.match(state.steps.find((s) => s.name === 'classify')!.detail ?? '', /spent \$0\.000\d+ of \$0\.0001/);
    assert.equal(state.budgets.maxUsd, 0.0001);
  });

  it('with downgrade configured, the cheaper model answers first', async () => {
    h.double.when(() => true, { kind: 'json', value: VALID });
    const chain = [
      { provider: 'anthropic' as const, model: 'claude-sonnet-4-5' },
      { provider: 'openai' as const, model: 'gpt-4.1-nano' },
    ];
    const { workflowId } = await h.client.startTriage(ticketEvent(), { modelChain: chain, budgets: { maxUsd: 0.002, downgradeOnBudget: true } });
    assert.equal((await h.client.triageResult(workflowId)).outcome, 'escalated');
    assert.deepEqual(h.double.requests.map((r) => r.model), ['gpt-4.1-nano']);
    const trail = (await h.client.triageState(workflowId)).modelTrail;
    assert.deepEqual(trail.map((t) => `${t.model}:${t.event}`), ['claude-sonnet-4-5:downgraded', 'gpt-4.1-nano:answered']);
  });

  it('a cap on model calls is a budget too', async () => {
    h.double.when(() => true, { kind: 'text', text: 'nope' });
    const { workflowId } = await h.client.startTriage(ticketEvent(), { budgets: { maxModelCalls: 2, maxRepairRounds: 5 }, reviewDeadline: '1s' });
    const result = await h.client.triageResult(workflowId);
    assert.equal(result.reviewReason, 'budget_exceeded');
    assert.equal(h.double.count(), 2);
  });

  it('cache hit: the second identical ticket makes zero model calls', async () => {
    h.double.enqueue({ kind: 'json', value: VALID });
    const text = { subject: 'Refund please', body: 'I was charged twice for one order, please refund.', sameText: true };
    const a = await h.client.startTriage(ticketEvent({ ...text, customerId: `cus_cache_a${process.pid}` }));
    await h.client.triageResult(a.workflowId);
    const b = await h.client.startTriage(ticketEvent({ ...text, customerId: `cus_cache_b${process.pid}` }));
    const result = await h.client.triageResult(b.workflowId);
    assert.equal(result.category, 'billing');
    assert.equal(h.double.count(), 1, 'only the first ticket reached the model');
    const state = await h.client.triageState(b.workflowId);
    assert.equal(state.ledger.cacheHits, 1);
    assert.equal(state.ledger.modelCalls, 0);
    assert.equal(state.ledger.usd, 0);
    assert.equal(state.modelTrail[0]?.event, 'cache_hit');

    // The model call reads and writes the cache itself: no local activity before or after it, in either run.
    for (const id of [a.workflowId, b.workflowId]) {
      const history = await h.client.client.workflow.getHandle(id).fetchHistory();
      assert.deepEqual(localActivityMarkers(history).map((m) => m.type).filter((t) => t.startsWith('cache')), [], `${id}: no cache local activities`);
      const scheduled = history.events!.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'callModel')!;
      const input = JSON.parse(Buffer.from(scheduled.activityTaskScheduledEventAttributes!.input!.payloads![0]!.data!).toString()) as { cache?: unknown };
      assert.deepEqual(input.cache, { read: true, write: true });
    }
    const bHistory = await h.client.client.workflow.getHandle(b.workflowId).fetchHistory();
    const completed = bHistory.events!.find((e) => e.activityTaskCompletedEventAttributes)!;
    const reply = JSON.parse(Buffer.from(completed.activityTaskCompletedEventAttributes!.result!.payloads![0]!.data!).toString()) as { cached?: { at: string }; usage: unknown };
    assert.ok(reply.cached?.at, 'the call answered from the cache');
    assert.deepEqual(reply.usage, { inputTokens: 0, outputTokens: 0 });
  });

  it('cache in the call: a cached answer that no longer validates is asked again, and a repaired answer is what is cached', async () => {
    const text = { subject: 'Card declined', body: 'My card keeps getting declined at checkout.', sameText: true };
    const run = async (customer: string) => {
      const { workflowId } = await h.client.startTriage(ticketEvent({ ...text, customerId: `${customer}${process.pid}` }));
      await h.client.triageResult(workflowId);
      return h.client.triageState(workflowId);
    };
    // A blank reason fails the business rule; the repair turn answers validly. The first answer was cached by the
    // call; the repaired one replaces it.
    h.double.enqueue({ kind: 'json', value: { ...VALID, reason: '  ' } }, { kind: 'json', value: VALID });
    const repaired = await run('cus_repair_a');
    assert.deepEqual(repaired.modelTrail.map((t) => t.event), ['invalid', 'answered']);
    const hit = await run('cus_repair_b');
    assert.equal(h.double.count(), 2, 'the second ticket was answered from the cache');
    assert.deepEqual(hit.modelTrail.map((t) => t.event), ['cache_hit']);
    assert.deepEqual(hit.classification, VALID);

    // A cached answer the workflow's rules refuse (as a changed rule would) is a miss: the model is asked.
    const changed = await h.store.db.query(`update model_cache set value = $1 where key = (select key from model_cache order by created_at desc limit 1) returning key`, [JSON.stringify({ ...VALID, reason: '' })]);
    assert.equal(changed.rows.length, 1);
    h.double.enqueue({ kind: 'json', value: VALID });
    const again = await run('cus_repair_c');
    assert.equal(h.double.count(), 3);
    assert.deepEqual(again.modelTrail.map((t) => t.event), ['answered']);
    assert.equal(again.ledger.cacheHits, 0);
  });

  it('every model down: the last resort is the answer cached for the same input by another model, and a reviewer confirms it', async () => {
    const text = { subject: 'Card top up failed', body: 'My top up was charged twice, please refund one.', sameText: true };
    // First the primary is refused (401) and the secondary answers; its answer is cached under its own name.
    h.double.when((r) => r.provider === 'anthropic', { kind: 'error', status: 401 });
    h.double.when((r) => r.provider === 'openai', { kind: 'json', value: VALID });
    const first = await h.client.startTriage(ticketEvent({ ...text, customerId: `cus_last_a${process.pid}` }), { modelChain: CHAIN });
    assert.equal((await h.client.triageResult(first.workflowId)).outcome, 'escalated');
    assert.deepEqual((await h.client.triageState(first.workflowId)).modelTrail.map((t) => `${t.provider}:${t.event}`), ['anthropic:failed', 'openai:answered']);

    // Then every model is down. The primary's cache key misses; the chain fails; the secondary's answer is used.
    h.double.reset().when(() => true, { kind: 'error', status: 503 });
    const second = await h.client.startTriage(ticketEvent({ ...text, customerId: `cus_last_b${process.pid}` }), {
      modelChain: CHAIN,
      budgets: { transportAttempts: 1 },
    });
    const state = await eventually('the last-resort run to await review', async () => {
      const s = await h.client.triageState(second.workflowId);
      return s.phase === 'awaiting_review' ? s : undefined;
    });
    assert.deepEqual(state.modelTrail.map((t) => `${t.provider}/${t.model}:${t.event}`), [
      'anthropic/claude-haiku-4-5:failed',
      'openai/gpt-4.1-mini:failed',
      'openai/gpt-4.1-mini:cache_last_resort',
    ]);
    assert.equal(state.pendingReview?.reason, 'cached_last_resort');
    assert.match(state.pendingReview?.detail ?? '', /every model in the chain failed .*openai\/gpt-4\.1-mini gave for the same input/);
    assert.deepEqual(state.classification, VALID, 'the reviewer sees the cached answer');
    assert.equal(h.double.count(), 2, 'one failed request per model');
    assert.equal(state.modelCalls.length, 0, 'no model call succeeded');
    assert.equal(state.ledger.modelCalls, 0);
    assert.equal(state.ledger.cacheHits, 1);
    assert.equal(state.ledger.usd, 0);
    const applied = await h.store.db.query('select 1 from decisions where workflow_id = $1', [second.workflowId]);
    assert.equal(applied.rows.length, 0, 'nothing is applied before the review');

    assert.equal((await h.client.review(second.workflowId, { action: 'approve', reviewerId: 'usr_442' })).status, 'accepted');
    const result = await h.client.triageResult(second.workflowId);
    assert.equal(result.outcome, 'approved');
    assert.equal(result.reviewReason, 'cached_last_resort');
    assert.equal(result.category, 'billing');
  });

  it('a fault mix: every run ends terminal, attempts never exceed their bounds, nothing is left running', async () => {
    const faults: DoubleReply[][] = [
      [{ kind: 'error', status: 429, retryAfter: 1 }, { kind: 'json', value: VALID }],
      [{ kind: 'error', status: 500 }, { kind: 'error', status: 529 }, { kind: 'json', value: VALID }],
      [{ kind: 'hang' }, { kind: 'json', value: VALID }],
      [{ kind: 'text', text: '{"category":' }, { kind: 'json', value: VALID }],
      [{ kind: 'text', text: 'x' }, { kind: 'text', text: 'y' }],
      [{ kind: 'refusal' }],
      [{ kind: 'json', value: { ...VALID, refund: 5000 } }, { kind: 'json', value: { ...VALID, confidence: 0.3 } }],
      [{ kind: 'error', status: 401 }, { kind: 'json', value: VALID }],
    ];
    const runs = await Promise.all(
      faults.map(async (script, i) => {
        const event = ticketEvent({ body: `fault mix ${i}` });
        const ref = event.ticket.body;
        const queue = [...script];
        // Each run gets its own script, matched by the ticket text the prompt carries.
        h.double.when((r) => r.text.includes(ref), () => queue.shift() ?? { kind: 'error', status: 500, message: 'script exhausted' });
        const started = await h.client.startTriage(event, { modelChain: CHAIN, reviewDeadline: '1s', budgets: { transportAttempts: 3, maxRepairRounds: 1 } });
        return { ...started, ref };
      }),
    );
    for (const run of runs) {
      const result = await h.client.triageResult(run.workflowId);
      assert.ok(result.outcome, `${run.workflowId} ended`);
      const requests = h.double.requests.filter((r) => r.text.includes(run.ref)).length;
      // Bound: attempts per model × models in the chain + repair rounds.
      assert.ok(requests <= 3 * CHAIN.length + 1, `${run.workflowId}: ${requests} requests`);
    }
    let open = 0;
    for await (const _wf of h.client.client.workflow.list({ query: "ExecutionStatus = 'Running'" })) open++;
    assert.equal(open, 0);
  });
});

describe('a worker process killed mid-run', () => {
  let h: Harness;
  let dataDir: string;
  const workers: ChildProcess[] = [];
  before(async () => {
    h = await startHarness({ fallback: null, worker: false });
    dataDir = await mkdtemp(join(tmpdir(), 'governor-kill-'));
  });
  after(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await h?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const startWorker = async () => {
    const child = await startWorkerProcess(h, dataDir);
    workers.push(child);
    return child;
  };

  it('the ledger and repair count continue on the new worker; the effect happens once', async () => {
    const first = await startWorker();
    h.double.enqueue({ kind: 'text', text: 'not json' }, { kind: 'hang' }, { kind: 'json', value: VALID });
    const { workflowId } = await h.client.startTriage(ticketEvent(), { modelCallTimeout: '3s' });
    await eventually('the repair call to be in flight', async () => (h.double.count() === 2 ? true : undefined));
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    await startWorker();
    const result = await h.client.triageResult(workflowId);
    assert.equal(result.outcome, 'escalated');
    assert.equal(h.double.count(), 3, 'the lost attempt was retried once, on the new worker');
    const state = await h.client.triageState(workflowId);
    assert.equal(state.ledger.modelCalls, 2, 'two answered calls charged, none twice, none reset');
    assert.deepEqual(state.modelCalls.map((c) => c.valid), [false, true]);
    assert.equal(state.steps.filter((s) => s.name === 'apply_triage_decision').length, 1);
    assert.equal(state.evidenceIds.length, 2);
  });
});
