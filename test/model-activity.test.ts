import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities } from '../activities';
import { BreakerRegistry } from '../activities/breakers';
import { retryAfterMs } from '../activities/model/errors';
import { createProviders } from '../activities/model/providers';
import { extractJson, toOpenAIStrictSchema } from '../activities/model/parse';
import { openStore, type Store } from '../activities/store';
import { FailureType } from '../contracts/failures';
import type { ModelCallRequest, ModelCallResult } from '../contracts/model';
import { classifierJsonSchema } from '../prompts/support-ticket-classifier';
import { ModelDouble } from './model-double/server';

/** Failures are what these tests are about; the SDK's log line for each would bury the report. */
const env = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

describe('model-call activity (MockActivityEnvironment, real SDKs, model double)', () => {
  let double: ModelDouble;
  let store: Store;
  let activities: ReturnType<typeof createActivities>;
  before(async () => {
    double = await ModelDouble.start();
    store = await openStore();
    const providers = createProviders({
      anthropic: { apiKey: 'k', baseURL: double.anthropicBaseURL },
      openai: { apiKey: 'k', baseURL: double.openaiBaseURL },
      timeoutMs: 500,
    });
    // Classification is under test, not the breaker: set it out of reach of the many injected failures.
    activities = createActivities({ providers, store, breakers: new BreakerRegistry({ failures: 1000, window: 1000 }) });
  });
  after(async () => {
    await double.close();
    await store.close();
  });

  const request = (provider: 'anthropic' | 'openai'): ModelCallRequest => ({
    model: { provider, model: 'm' },
    temperature: 0,
    maxOutputTokens: 100,
    system: 'classify',
    messages: [{ role: 'user', content: 'ticket' }],
    output: { name: 'classify_ticket', description: 'd', jsonSchema: classifierJsonSchema },
    prompt: { name: 'support_ticket_classifier', version: 'v1' },
  });

  const failure = async (provider: 'anthropic' | 'openai'): Promise<ApplicationFailure> => {
    try {
      await env().run(activities.callModel, request(provider));
    } catch (err) {
      assert.ok(err instanceof ApplicationFailure, String(err));
      return err;
    }
    assert.fail('expected the activity to fail');
  };

  it('returns raw text, parsed value, usage, model, latency and prompt version', async () => {
    double.enqueue({ kind: 'json', value: { x: 1 } });
    const result = (await env().run(activities.callModel, request('anthropic'))) as ModelCallResult;
    assert.deepEqual(result.parsed, { x: 1 });
    assert.equal(result.text, '{"x":1}');
    assert.equal(result.parseError, null);
    assert.deepEqual(result.prompt, { name: 'support_ticket_classifier', version: 'v1' });
    assert.deepEqual(result.model, { provider: 'anthropic', model: 'm' });
    assert.ok(result.usage.inputTokens > 0 && result.latencyMs >= 0);
    assert.ok(result.requestId);
  });

  for (const provider of ['anthropic', 'openai'] as const) {
    it(`${provider}: errors are classified per the failure table`, async () => {
      const cases: Array<[Parameters<ModelDouble['enqueue']>[0], string, boolean, number | undefined]> = [
        [{ kind: 'error', status: 429, retryAfter: 2 }, FailureType.RateLimited, false, 2000],
        [{ kind: 'error', status: 401 }, FailureType.ModelAuthFailed, true, undefined],
        [{ kind: 'error', status: 403 }, FailureType.ModelAuthFailed, true, undefined],
        [{ kind: 'error', status: 400 }, FailureType.ModelBadRequest, true, undefined],
        [{ kind: 'error', status: 404 }, FailureType.ModelBadRequest, true, undefined],
        [{ kind: 'error', status: 500 }, FailureType.ModelServerError, false, undefined],
        [{ kind: 'error', status: 503 }, FailureType.ModelOverloaded, false, undefined],
        [{ kind: 'error', status: 529 }, FailureType.ModelOverloaded, false, undefined],
        [{ kind: 'hang' }, FailureType.ModelTimeout, false, undefined],
        [{ kind: 'refusal' }, FailureType.ModelRefused, true, undefined],
      ];
      for (const [reply, type, nonRetryable, delay] of cases) {
        double.enqueue(reply);
        const err = await failure(provider);
        assert.equal(err.type, type, `${JSON.stringify(reply)} → ${err.type}`);
        assert.equal(err.nonRetryable, nonRetryable, `${JSON.stringify(reply)} retryability`);
        if (delay !== undefined) assert.equal(err.nextRetryDelay, delay);
      }
    });
  }

  it('a provider not configured on the worker is a non-retryable failure that says which key to set', async () => {
    const bare = createActivities({ providers: createProviders({}), store });
    await assert.rejects(env().run(bare.callModel, request('openai')), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.type, FailureType.ProviderNotConfigured);
      assert.match(err.message, /OPENAI_API_KEY/);
      return true;
    });
  });

  it('breaker settings are checked when the registry is made', () => {
    assert.throws(() => new BreakerRegistry({ failures: 11, window: 10 }), /failures \(11\) must be a whole number from 1 to window \(10\)/);
    assert.throws(() => new BreakerRegistry({ failures: 0 }), /failures \(0\)/);
  });

  it('a tool breaker opens on unclassified failures and then refuses without calling the tool', async () => {
    const registry = new BreakerRegistry({ failures: 2, window: 4, cooldownMs: 60_000 });
    let calls = 0;
    const failing = async () => {
      calls++;
      throw new Error('connection refused');
    };
    await assert.rejects(registry.execute('tool:x', failing), /connection refused/);
    await assert.rejects(registry.execute('tool:x', failing), /connection refused/);
    await assert.rejects(registry.execute('tool:x', failing), (err: unknown) => err instanceof ApplicationFailure && err.type === FailureType.CircuitOpen && err.nonRetryable === true);
    assert.equal(calls, 2);
    assert.deepEqual(registry.snapshot(), [{ name: 'tool:x', state: 'open', opened: 1, rejected: 1 }]);
    // A bad request is no sign of ill health: it never opens a breaker.
    const refusals = new BreakerRegistry({ failures: 1, window: 1 });
    const badRequest = async () => {
      throw ApplicationFailure.create({ type: FailureType.ModelBadRequest, nonRetryable: true });
    };
    await assert.rejects(refusals.execute('model:x', badRequest));
    await assert.rejects(refusals.execute('model:x', badRequest), (err: unknown) => (err as ApplicationFailure).type === FailureType.ModelBadRequest);
  });

  it('retry-after: seconds, milliseconds, an HTTP date, capped', () => {
    const headers = (h: Record<string, string>) => new Headers(h);
    assert.equal(retryAfterMs(headers({ 'retry-after': '2' })), 2000);
    assert.equal(retryAfterMs(headers({ 'retry-after-ms': '1500', 'retry-after': '9' })), 1500);
    assert.equal(retryAfterMs(headers({ 'retry-after': new Date(10_000).toUTCString() }), 5_000), 5000);
    assert.equal(retryAfterMs(headers({ 'retry-after': '86400' })), 120_000);
    assert.equal(retryAfterMs(headers({ 'retry-after': '0' })), undefined);
    assert.equal(retryAfterMs(headers({})), undefined);
  });

  it('JSON extraction unwraps code fences and reports what is not JSON', () => {
    assert.deepEqual(extractJson('```json\n{"a":1}\n```'), { parsed: { a: 1 }, parseError: null });
    assert.deepEqual(extractJson(' {"a":1} '), { parsed: { a: 1 }, parseError: null });
    // A reply with no JSON object or array in it is reported, never guessed at (jsonrepair would make a string of it).
    assert.match(extractJson('I cannot help with that.').parseError ?? '', /no JSON object or array/);
    assert.deepEqual(extractJson('Here you go: ```json {"a":1} ``` Anything else?'), { parsed: { a: 1 }, parseError: null });
    assert.match(extractJson('').parseError ?? '', /empty/);
  });

  it('the OpenAI strict schema drops length bounds and keeps the rest', () => {
    const strict = toOpenAIStrictSchema(classifierJsonSchema) as { properties: { reason: Record<string, unknown> }; additionalProperties: boolean };
    assert.equal(strict.properties.reason.maxLength, undefined);
    assert.equal(strict.additionalProperties, false);
    assert.equal((classifierJsonSchema.properties as { reason: { maxLength: number } }).reason.maxLength, 300);
  });
});
