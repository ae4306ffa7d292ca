import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { admitModelCall, BreakerRegistry, createGovernorWorker, createProviders, spendLimits, spentToday, tokenizerCountRequest, type GovernorWorker } from 'governor/worker';
import { openSupportStore, SUPPORT_READS, supportActivities } from '../examples/support/setup.js';
import { eventually, startHarness, ticketEvent, type Harness } from './helpers/harness.js';
import { startPostgres, type PostgresServer } from './helpers/postgres.js';

/** A ticket the offline model answers with confidence: one model call per run. */
const ROUTINE = { subject: 'Auto top up', body: 'How do I use auto top up?' };

describe('the daily spend ceiling across runs', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ spend: { dailyUsd: 0.0004 } });
  });
  after(async () => {
    await h?.close();
  });

  it('stops new model calls once the day has spent it, with a clear state, and never calls the provider', async () => {
    const first = await h.client.triageResult((await h.client.startTriage(ticketEvent(ROUTINE))).workflowId);
    assert.equal(first.outcome, 'auto_applied');
    assert.ok((await spentToday(h.store)) >= 0.0004, 'the first call spent past the ceiling');
    const calls = h.double.count({ outputName: 'classify_ticket' });
    const { workflowId } = await h.client.startTriage(ticketEvent(ROUTINE));
    const state = await eventually('the second run held', async () => {
      const s = await h.client.triageState(workflowId);
      return s.phase === 'awaiting_review' ? s : undefined;
    });
    assert.equal(state.pendingReview?.reason, 'budget_exceeded');
    assert.match(state.pendingReview?.detail ?? '', /daily spend ceiling of \$0\.0004 is reached/);
    assert.equal(h.double.count({ outputName: 'classify_ticket' }), calls, 'no request reached the provider');
    assert.throws(() => spendLimits({ dailyUsd: -1 }), /dailyUsd: .*greater than 0|dailyUsd/);
  });

  it('a request rate: two a second, at most two at once; six calls cannot pass in under two seconds', async () => {
    const limits = spendLimits({ requestsPerMinute: { openai: 120 }, burstSeconds: 1 });
    const req = { model: { provider: 'openai', model: 'gpt-4.1-mini' }, temperature: 0, maxOutputTokens: 10, system: 's', messages: [{ role: 'user' as const, content: 'hi' }], output: { name: 'o', description: 'o', jsonSchema: {} }, prompt: { name: 'p', version: '1' } };
    const t0 = performance.now();
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      await admitModelCall(h.store, limits, req);
      times.push(performance.now() - t0);
    }
    assert.ok(times[5]! >= 1_800, `six take about two seconds at two a second (${Math.round(times[5]!)} ms)`);
  });
});

describe('a token rate per provider, shared by two workers on one PostgreSQL store', () => {
  let pg: PostgresServer;
  let h: Harness;
  let second: GovernorWorker;
  let secondStore: Awaited<ReturnType<typeof openSupportStore>>;
  // About two requests' worth of tokens a second, and no more than one second's worth at once.
  const perMinute = 60 * 1_200;
  before(async () => {
    pg = await startPostgres();
    const spend = { tokensPerMinute: { anthropic: perMinute }, burstSeconds: 1 };
    h = await startHarness({ databaseUrl: pg.url, spend, modelTimeoutMs: 30_000 });
    // A second worker process's worth: its own store connection and its own provider credentials, the same limits.
    secondStore = await openSupportStore({ databaseUrl: pg.url });
    second = await createGovernorWorker({
      address: h.server.address,
      activities: supportActivities({
        providers: createProviders({ anthropic: { apiKey: 'second-worker-key', baseURL: h.double.anthropicBaseURL }, timeoutMs: 30_000 }),
        store: secondStore,
        breakers: new BreakerRegistry(),
        temporal: h.client.client,
        spend: spendLimits(spend),
      }),
      reads: SUPPORT_READS,
      workflows: h.bundle,
    });
    void second.run();
  });
  after(async () => {
    await second?.shutdown();
    await secondStore?.close();
    await h?.close();
    await pg?.stop();
  });

  it('ten runs at once: both workers call the provider, and together they never pass the shared rate', async () => {
    const started = await Promise.all(Array.from({ length: 10 }, () => h.client.startTriage(ticketEvent(ROUTINE))));
    const results = await Promise.all(started.map((s) => h.client.triageResult(s.workflowId)));
    assert.deepEqual([...new Set(results.map((r) => r.outcome))], ['auto_applied']);
    const calls = h.double.requests.filter((r) => r.outputName === 'classify_ticket').slice(-10);
    const keys = new Set(calls.map((r) => String(r.headers['x-api-key'] ?? r.headers.authorization)));
    assert.equal(keys.size, 2, `both workers made calls (${[...keys].join(', ')})`);
    // The bucket invariant, in tokens: what was admitted by t seconds after the first request is at most the bucket
    // (one second's worth) plus the refill since, give or take one request (the first admission precedes its arrival).
    const perSecond = perMinute / 60;
    const need = (r: (typeof calls)[number]) => {
      const body = r.body as { system?: string; messages: Array<{ role: 'user' | 'assistant'; content: string }>; max_tokens: number };
      return tokenizerCountRequest({ ...(body.system ? { system: body.system } : {}), messages: body.messages }) + body.max_tokens;
    };
    const largest = Math.max(...calls.map(need));
    const t0 = calls[0]!.at;
    let admitted = 0;
    for (const [i, r] of calls.entries()) {
      admitted += need(r);
      const allowed = perSecond + perSecond * ((r.at - t0) / 1000) + largest;
      assert.ok(admitted <= allowed, `request ${i + 1} at +${r.at - t0} ms: ${admitted} tokens admitted, the shared rate allows ${Math.round(allowed)}`);
    }
    const floorMs = ((admitted - perSecond - 2 * largest) / perSecond) * 1000;
    assert.ok(calls.at(-1)!.at - t0 >= floorMs, `the ten took ${calls.at(-1)!.at - t0} ms; the rate needs at least ${Math.round(floorMs)} ms`);
  });
});
