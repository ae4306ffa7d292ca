import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startHarness, ticketEvent, type Harness } from './helpers/harness.js';

const VALID = { category: 'billing', urgency: 'high', confidence: 0.9, reason: 'Duplicate charge after an upgrade.' };

describe('model faults, through the real SDKs and Temporal retries', () => {
  let h: Harness;
  before(async () => {
    // No fallback: every request must be scripted, so an unexpected extra call fails loudly.
    // These tests count retries of single calls; a breaker that opened part-way through (they inject many failures
    // in a row) would cut them short, so it is set out of reach here and tested in resilience.test.ts.
    h = await startHarness({ modelTimeoutMs: 1_000, fallback: null, breakers: { failures: 1000, window: 1000 } });
  });
  after(async () => {
    await h?.close();
  });
  beforeEach(() => {
    h.double.reset();
  });

  async function run(config = {}) {
    const { workflowId } = await h.client.startTriage(ticketEvent(), config);
    const result = await h.client.triageResult(workflowId);
    const state = await h.client.triageState(workflowId);
    return { workflowId, result, state };
  }

  it('malformed JSON → one repair call carrying the issues → success (exactly 2 model calls)', async () => {
    h.double.enqueue({ kind: 'text', text: '{"category": "billing", "urgency": ' }, { kind: 'json', value: VALID });
    const { result, state } = await run();
    assert.equal(result.outcome, 'escalated');
    assert.equal(h.double.count(), 2);
    const repair = h.double.requests[1]!;
    assert.match(repair.text, /Your previous output was invalid: \(root\): the reply is not valid JSON/);
    assert.match(repair.text, /\{"category": "billing", "urgency": /, 'the model sees its own bad reply');
    assert.deepEqual(state.modelCalls.map((c) => c.valid), [false, true]);
  });

  it('malformed twice → fails closed to review, no more calls', async () => {
    h.double.enqueue({ kind: 'text', text: 'Sure! The category is billing.' }, { kind: 'text', text: 'billing, high' });
    const { workflowId } = await h.client.startTriage(ticketEvent(), { reviewDeadline: '1s' });
    const result = await h.client.triageResult(workflowId);
    assert.equal(result.reviewReason, 'invalid_output');
    assert.equal(result.outcome, 'review_expired_escalated');
    assert.equal(h.double.count(), 2);
  });

  it('JSON in a code fence is read without a repair', async () => {
    h.double.enqueue({ kind: 'text', text: '```json\n' + JSON.stringify(VALID) + '\n```' });
    const { result } = await run();
    assert.equal(result.category, 'billing');
    assert.equal(h.double.count(), 1);
  });

  for (const [name, value, issue] of [
    ['missing field', { category: 'billing', urgency: 'high', reason: 'x' }, /confidence: /],
    ['wrong type', { ...VALID, confidence: 'very' }, /confidence: .*number/],
    ['extra field', { ...VALID, refund: 500 }, /Unrecognized key.*refund/],
    ['value outside the enum', { ...VALID, category: 'refunds' }, /category: /],
    ['business rule: blank reason', { ...VALID, reason: '   ' }, /reason: must explain the classification/],
  ] as const) {
    it(`${name} → repair names the field → success`, async () => {
      h.double.enqueue({ kind: 'json', value }, { kind: 'json', value: VALID });
      const { state } = await run();
      assert.equal(h.double.count(), 2);
      assert.match(h.double.requests[1]!.text, issue);
      assert.match(state.modelCalls[0]!.issues.join('; '), issue);
      assert.equal(state.outcome, 'escalated');
    });
  }

  it('429 with retry-after → retried after that delay', async () => {
    h.double.enqueue({ kind: 'error', status: 429, retryAfter: 3 }, { kind: 'json', value: VALID });
    const { result } = await run();
    assert.equal(result.outcome, 'escalated');
    assert.equal(h.double.count(), 2);
    const gap = h.double.requests[1]!.at - h.double.requests[0]!.at;
    // The policy's own first backoff is 1 s: a gap of 3 s or more is the provider's retry-after at work.
    assert.ok(gap >= 2_900, `second attempt came ${gap} ms after the first`);
  });

  it('429 forever → attempts stop at the bound (3) and the run fails closed to review', async () => {
    h.double.when(() => true, { kind: 'error', status: 429, retryAfter: 0 });
    const { result, state } = await run({ reviewDeadline: '1s' });
    assert.equal(h.double.count(), 3);
    assert.equal(result.reviewReason, 'model_unavailable');
    assert.match(state.steps.find((s) => s.name === 'classify')!.detail ?? '', /RateLimited/);
  });

  it('401 → not retried', async () => {
    h.double.when(() => true, { kind: 'error', status: 401, message: 'invalid x-api-key' });
    const { result, state } = await run({ reviewDeadline: '1s' });
    assert.equal(h.double.count(), 1);
    assert.equal(result.reviewReason, 'model_unavailable');
    assert.match(state.steps.find((s) => s.name === 'classify')!.detail ?? '', /ModelAuthFailed/);
  });

  it('400 → not retried', async () => {
    h.double.when(() => true, { kind: 'error', status: 400 });
    await run({ reviewDeadline: '1s' });
    assert.equal(h.double.count(), 1);
  });

  it('a hang → timeout → retried, and the retry succeeds; the run shows both requests', async () => {
    h.double.enqueue({ kind: 'hang' }, { kind: 'json', value: VALID });
    const { result, state } = await run();
    assert.equal(result.outcome, 'escalated');
    assert.equal(h.double.count(), 2);
    assert.equal(state.modelCalls[0]!.attempt, 2, 'the answer came on the second attempt');
    assert.equal(state.steps.find((s) => s.name === 'classify')!.attempts, 2, 'the step counts the transport retry');
  });

  it('hangs forever → attempts stop at the bound', async () => {
    h.double.when(() => true, { kind: 'hang' });
    const { result, state } = await run({ reviewDeadline: '1s' });
    assert.equal(h.double.count(), 3);
    assert.match(state.steps.find((s) => s.name === 'classify')!.detail ?? '', /ModelTimeout/);
    assert.equal(result.reviewReason, 'model_unavailable');
  });

  it('a hang past the activity start-to-close timeout → Temporal times the attempt out and retries, bounded', async () => {
    // The SDK would wait 1 s; the activity's own timeout (300 ms) fires first, so this is Temporal's timeout at work.
    h.double.enqueue({ kind: 'hang' }, { kind: 'json', value: VALID });
    const ok = await run({ modelCallTimeout: '300ms' });
    assert.equal(ok.result.outcome, 'escalated');
    assert.equal(h.double.count(), 2);

    h.double.reset().when(() => true, { kind: 'hang' });
    const { result, state } = await run({ modelCallTimeout: '300ms', reviewDeadline: '1s' });
    assert.equal(h.double.count(), 3);
    assert.equal(result.reviewReason, 'model_unavailable');
    assert.match(state.steps.find((s) => s.name === 'classify')!.detail ?? '', /ActivityTimeout\(START_TO_CLOSE\)/);
  });

  it('500 and 529 overloaded are retried', async () => {
    h.double.enqueue({ kind: 'error', status: 500 }, { kind: 'error', status: 529 }, { kind: 'json', value: VALID });
    const { result } = await run();
    assert.equal(result.outcome, 'escalated');
    assert.equal(h.double.count(), 3);
  });

  it('a refusal → not retried, review with reason model_refused', async () => {
    h.double.enqueue({ kind: 'refusal', text: 'I cannot help with that.' });
    const { result } = await run({ reviewDeadline: '1s' });
    assert.equal(h.double.count(), 1);
    assert.equal(result.reviewReason, 'model_refused');
  });

  it('the OpenAI provider path works end to end with json_schema output', async () => {
    h.double.enqueue({ kind: 'json', value: VALID });
    const { result } = await run({ model: { provider: 'openai', model: 'gpt-4.1-mini' } });
    assert.equal(result.outcome, 'escalated');
    const req = h.double.requests[0]!;
    assert.equal(req.provider, 'openai');
    assert.equal(req.model, 'gpt-4.1-mini');
    const format = req.body.response_format as { type: string; json_schema: { strict: boolean; schema: { required: string[] } } };
    assert.equal(format.type, 'json_schema');
    assert.equal(format.json_schema.strict, true);
    assert.deepEqual([...format.json_schema.schema.required].sort(), ['category', 'confidence', 'reason', 'urgency']);
  });

  it('the Anthropic request forces the classify tool and sends SDK retry count 0', async () => {
    h.double.enqueue({ kind: 'json', value: VALID });
    await run();
    const req = h.double.requests[0]!;
    assert.deepEqual(req.body.tool_choice, { type: 'tool', name: 'classify_ticket' });
    assert.equal(req.model, 'claude-haiku-4-5');
    assert.equal(req.headers['x-stainless-retry-count'], '0');
  });
});
