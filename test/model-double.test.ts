import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { ModelDouble } from '../testing/model-double.js';
import { classifyTicketText, triageResponder } from '../examples/support/double/triage-responder.js';

/** The double must be good enough that the real SDKs parse every reply and every error it produces. */
describe('model double speaks both wire APIs to the real SDKs', () => {
  let double: ModelDouble;
  let anthropic: Anthropic;
  let openai: OpenAI;
  before(async () => {
    double = await ModelDouble.start();
    anthropic = new Anthropic({ apiKey: 'k', baseURL: double.anthropicBaseURL, maxRetries: 0, timeout: 500 });
    openai = new OpenAI({ apiKey: 'k', baseURL: double.openaiBaseURL, maxRetries: 0, timeout: 500 });
  });
  after(async () => {
    await double.close();
  });
  beforeEach(() => {
    double.reset();
  });

  const tool = { name: 'classify_ticket', description: 'd', input_schema: { type: 'object' as const, properties: {} } };
  const askAnthropic = () =>
    anthropic.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hello' }],
      tools: [tool],
      tool_choice: { type: 'tool', name: 'classify_ticket' },
    });
  const askOpenAI = () =>
    openai.chat.completions.create({
      model: 'gpt-4.1-mini',
      messages: [{ role: 'user', content: 'hello' }],
      response_format: { type: 'json_schema', json_schema: { name: 'classify_ticket', schema: { type: 'object' }, strict: true } },
    });

  it('structured output: Anthropic tool_use, OpenAI JSON content, with usage', async () => {
    double.enqueue({ kind: 'json', value: { a: 1 } }, { kind: 'json', value: { a: 1 } });
    const message = await askAnthropic();
    assert.equal(message.stop_reason, 'tool_use');
    const block = message.content[0];
    assert.ok(block?.type === 'tool_use');
    assert.deepEqual(block.input, { a: 1 });
    assert.ok(message.usage.input_tokens > 0 && message.usage.output_tokens > 0);
    const completion = await askOpenAI();
    assert.equal(completion.choices[0]?.message.content, '{"a":1}');
    assert.equal(completion.choices[0]?.finish_reason, 'stop');
    assert.ok((completion.usage?.total_tokens ?? 0) > 0);
  });

  it('text replies and refusals', async () => {
    double.enqueue({ kind: 'text', text: '```json\n{}\n```' }, { kind: 'refusal', text: 'no' }, { kind: 'refusal' });
    const text = await askAnthropic();
    assert.deepEqual(text.content.map((b) => (b.type === 'text' ? b.text : '')), ['```json\n{}\n```']);
    assert.equal((await askAnthropic()).stop_reason, 'refusal');
    assert.ok((await askOpenAI()).choices[0]?.message.refusal);
  });

  for (const status of [400, 401, 429, 500, 503, 529]) {
    it(`HTTP ${status} surfaces as the SDKs' own error class with status and headers`, async () => {
      double.enqueue({ kind: 'error', status, retryAfter: 7 }, { kind: 'error', status, retryAfter: 7 });
      for (const call of [askAnthropic, askOpenAI]) {
        await assert.rejects(call(), (err: unknown) => {
          assert.ok(err instanceof Anthropic.APIError || err instanceof OpenAI.APIError, String(err));
          assert.equal(err.status, status);
          assert.equal(err.headers?.get('retry-after'), '7');
          if (status === 429) assert.ok(err instanceof Anthropic.RateLimitError || err instanceof OpenAI.RateLimitError);
          return true;
        });
      }
    });
  }

  it('a hang makes the SDK time out; garbage bodies are reported by the SDK', async () => {
    double.enqueue({ kind: 'hang' }, { kind: 'garbage' });
    await assert.rejects(askAnthropic(), Anthropic.APIConnectionTimeoutError);
    await assert.rejects(askOpenAI());
  });

  it('records every request and fails loudly when nothing is scripted', async () => {
    await assert.rejects(askOpenAI(), /no scripted reply left for request #1 \(openai, classify_ticket\)/);
    assert.equal(double.requests.length, 1);
    assert.equal(double.requests[0]?.outputName, 'classify_ticket');
    assert.equal(double.count({ provider: 'openai' }), 1);
  });

  it('rules match requests and run out after `times`', async () => {
    double.when((r) => r.text.includes('hello'), { kind: 'json', value: { rule: true } }, 1);
    assert.equal((await askOpenAI()).choices[0]?.message.content, '{"rule":true}');
    await assert.rejects(askOpenAI(), /no scripted reply/);
  });

  it('rejects requests without credentials, as the providers do', async () => {
    const res = await fetch(`${double.url}/v1/chat/completions`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 401);
  });

  it('the triage responder answers the classifier prompt deterministically', () => {
    const a = classifyTicketText('Charged twice after upgrading', 'I upgraded to Pro yesterday and see two charges on my card.');
    assert.deepEqual(a, classifyTicketText('Charged twice after upgrading', 'I upgraded to Pro yesterday and see two charges on my card.'));
    assert.equal(a.category, 'billing');
    assert.equal(a.urgency, 'high');
    assert.ok(a.confidence >= 0.75);
    assert.ok(classifyTicketText('Why?', 'Why did I get blocked?').confidence < 0.75);
    assert.equal(triageResponder({ outputName: 'other' } as never), undefined);
  });
});
