import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { z } from 'zod';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { BreakerRegistry } from '../activities/breakers.js';
import { retryAfterMs } from '../activities/providers/errors.js';
import { openaiCompatibleProvider } from '../activities/providers/openai-compatible.js';
import { createProviders } from '../activities/providers/registry.js';
import { extractJson, toOpenAIStrictSchema } from '../activities/providers/json.js';
import { openStore, type Store } from '../activities/store.js';
import { failureRow, FailureType } from '../contracts/failures.js';
import { replyText, type ModelCallRequest, type ModelCallResult } from '../contracts/model.js';
import { Policy } from '../contracts/policy.js';
import { ModelDouble } from '../testing/model-double.js';

/**
 * A classifier-shaped output schema as providers receive it (JSON Schema derived from zod, without `$schema`); the
 * activity is framework code, so its test does not borrow the reference domain's prompt.
 */
const { $schema: _ignored, ...classifierJsonSchema } = z.toJSONSchema(
  z.strictObject({
    category: z.enum(['billing', 'bug', 'other']),
    confidence: z.number().min(0).max(1),
    reason: z.string().min(1).max(300),
  }),
) as Record<string, unknown>;

/** Failures are what these tests are about; the SDK's log line for each would bury the report. */
const env = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

/** The model-call activity needs no tools and no policy: a worker with none refuses every tool call. */
const noTools = { tools: [], policy: Policy.parse({ version: 'test', actors: {} }) };

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
    activities = createActivities({ providers, store, breakers: new BreakerRegistry({ failures: 1000, window: 1000 }), ...noTools });
  });
  after(async () => {
    await double.close();
    await store.close();
  });

  const request = (provider: string): ModelCallRequest => ({
    model: { provider, model: 'm' },
    temperature: 0,
    maxOutputTokens: 100,
    system: 'classify',
    messages: [{ role: 'user', content: 'ticket' }],
    output: { name: 'classify_ticket', description: 'd', jsonSchema: classifierJsonSchema },
    prompt: { name: 'support_ticket_classifier', version: 'v1' },
  });

  const failure = async (provider: string, on = activities): Promise<ApplicationFailure> => {
    try {
      await env().run(on.callModel, request(provider));
    } catch (err) {
      assert.ok(err instanceof ApplicationFailure, String(err));
      return err;
    }
    assert.fail('expected the activity to fail');
  };

  it('returns parsed value, usage, model, latency and prompt version; the raw text only when it says more', async () => {
    double.enqueue({ kind: 'json', value: { x: 1 } });
    const result = (await env().run(activities.callModel, request('anthropic'))) as ModelCallResult;
    assert.deepEqual(result.parsed, { x: 1 });
    // A structured answer's text is the parsed value's JSON: left out of history, given back by replyText.
    assert.ok(!('text' in result), 'no second copy of the answer');
    assert.equal(replyText(result), '{"x":1}');
    // Prose around the JSON is what a repair turn quotes back: kept.
    double.enqueue({ kind: 'text', text: 'Here you go: {"x":2}' });
    const prose = (await env().run(activities.callModel, request('anthropic'))) as ModelCallResult;
    assert.deepEqual(prose.parsed, { x: 2 });
    assert.equal(prose.text, 'Here you go: {"x":2}');
    assert.equal(replyText(prose), 'Here you go: {"x":2}');
    assert.equal(result.parseError, null);
    assert.deepEqual(result.prompt, { name: 'support_ticket_classifier', version: 'v1' });
    assert.deepEqual(result.model, { provider: 'anthropic', model: 'm' });
    assert.ok(result.usage.inputTokens > 0 && result.latencyMs >= 0);
    assert.ok(result.requestId);
  });

  it('caches its answer behind the reply: the next read on the worker sees it, and a write that fails costs nothing', async () => {
    const req: ModelCallRequest = { ...request('anthropic'), messages: [{ role: 'user', content: 'cache me behind' }], cache: { read: true, write: true } };
    double.enqueue({ kind: 'json', value: { x: 7 } });
    const first = (await env().run(activities.callModel, req)) as ModelCallResult;
    assert.equal(first.cached, undefined);
    // Asked again at once, without waiting for anything: answered from the cache, the provider not asked.
    const asked = double.requests.length;
    const second = (await env().run(activities.callModel, req)) as ModelCallResult;
    assert.ok(second.cached?.at, 'answered from the cache');
    assert.deepEqual(second.parsed, { x: 7 });
    assert.deepEqual(second.usage, { inputTokens: 0, outputTokens: 0 });
    assert.equal(double.requests.length, asked, 'no request reached the provider');
    // A store that cannot take the write (its cache table gone): the paid-for answer still comes back.
    const broken = await openStore();
    try {
      await broken.db.exec('drop table model_cache');
      const onBroken = createActivities({ providers: createProviders({ anthropic: { apiKey: 'k', baseURL: double.anthropicBaseURL }, timeoutMs: 500 }), store: broken, ...noTools });
      double.enqueue({ kind: 'json', value: { x: 8 } });
      const answered = (await env().run(onBroken.callModel, { ...req, cache: { read: false, write: true } })) as ModelCallResult;
      assert.deepEqual(answered.parsed, { x: 8 });
      // The write failed behind the answer; a read of the key then fails on the missing table, as it should.
      await assert.rejects(env().run(onBroken.cacheGet, req), /model_cache/);
    } finally {
      await broken.close();
    }
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
    const bare = createActivities({ providers: createProviders({}), store, ...noTools });
    await assert.rejects(env().run(bare.callModel, request('openai')), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.type, FailureType.ProviderNotConfigured);
      assert.equal(err.nonRetryable, true);
      assert.match(err.message, /OPENAI_API_KEY/);
      assert.match(err.message, /configured: none/);
      return true;
    });
  });

  describe('an OpenAI-compatible endpoint (the double\'s OpenAI API), registered under its own name', () => {
    const compatible = (structuredOutput: 'json_schema' | 'json_object', apiKey: string | null = 'k') =>
      createActivities({
        providers: createProviders([openaiCompatibleProvider({ name: 'local', baseURL: double.openaiBaseURL, apiKey: apiKey ?? undefined, structuredOutput, timeoutMs: 500 })]),
        store,
        breakers: new BreakerRegistry({ failures: 1000, window: 1000 }),
        ...noTools,
      });

    it('json_schema mode: a strict schema in response_format, the reply parsed', async () => {
      double.reset().enqueue({ kind: 'json', value: { x: 1 } });
      const result = (await env().run(compatible('json_schema').callModel, request('local'))) as ModelCallResult;
      assert.deepEqual(result.parsed, { x: 1 });
      assert.equal(result.parseError, null);
      assert.deepEqual(result.model, { provider: 'local', model: 'm' });
      assert.equal(result.stopReason, 'stop');
      assert.ok(result.requestId && result.usage.inputTokens > 0);
      const sent = double.requests[0]!;
      assert.equal(sent.provider, 'openai');
      assert.equal(sent.outputName, 'classify_ticket');
      const format = sent.body.response_format as { type: string; json_schema: { strict: boolean; schema: { properties: { reason: Record<string, unknown> } } } };
      assert.equal(format.type, 'json_schema');
      assert.equal(format.json_schema.strict, true);
      assert.equal(format.json_schema.schema.properties.reason.maxLength, undefined);
      assert.equal((sent.body.messages as Array<{ content: string }>)[0]?.content, 'classify');
      assert.equal(sent.headers.authorization, 'Bearer k');
    });

    it('json_object mode: JSON mode, the schema in the system prompt, a fenced reply still read', async () => {
      double.reset().enqueue({ kind: 'text', text: 'Here it is:\n```json\n{"x": 2,}\n```' });
      const result = (await env().run(compatible('json_object').callModel, request('local'))) as ModelCallResult;
      assert.deepEqual(result.parsed, { x: 2 });
      assert.equal(result.parseError, null);
      const sent = double.requests[0]!;
      assert.deepEqual(sent.body.response_format, { type: 'json_object' });
      assert.equal(sent.outputName, null);
      const system = (sent.body.messages as Array<{ role: string; content: string }>)[0]!;
      assert.equal(system.role, 'system');
      assert.ok(system.content.startsWith('classify\n\n'), system.content);
      assert.match(system.content, /single JSON object/);
      assert.ok(system.content.includes(JSON.stringify(classifierJsonSchema)), 'the whole schema is in the system prompt');
    });

    for (const mode of ['json_schema', 'json_object'] as const) {
      it(`${mode} mode: errors are classified per the failure table, under the endpoint's name`, async () => {
        const activitiesOf = compatible(mode);
        const cases: Array<[Parameters<ModelDouble['enqueue']>[0], string, boolean]> = [
          [{ kind: 'error', status: 429, retryAfter: 1 }, FailureType.RateLimited, false],
          [{ kind: 'error', status: 400 }, FailureType.ModelBadRequest, true],
          [{ kind: 'error', status: 503 }, FailureType.ModelOverloaded, false],
          [{ kind: 'hang' }, FailureType.ModelTimeout, false],
          [{ kind: 'garbage' }, FailureType.ModelServerError, false],
          [{ kind: 'refusal' }, FailureType.ModelRefused, true],
        ];
        for (const [reply, type, nonRetryable] of cases) {
          double.reset().enqueue(reply);
          const err = await failure('local', activitiesOf);
          assert.equal(err.type, type, `${JSON.stringify(reply)} → ${err.type}: ${err.message}`);
          assert.equal(err.nonRetryable, nonRetryable, `${JSON.stringify(reply)} retryability`);
          assert.match(err.message, /^local/);
        }
      });
    }

    it('without an API key no Authorization header is sent (never OPENAI_API_KEY): the double answers 401', async () => {
      double.reset();
      const saved = process.env.OPENAI_API_KEY;
      process.env.OPENAI_API_KEY = 'an-openai-key-that-must-stay-home';
      let keyless;
      try {
        keyless = compatible('json_schema', null);
      } finally {
        if (saved === undefined) delete process.env.OPENAI_API_KEY;
        else process.env.OPENAI_API_KEY = saved;
      }
      const err = await failure('local', keyless);
      assert.equal(err.type, FailureType.ModelAuthFailed, err.message);
      assert.equal(err.nonRetryable, true);
      assert.equal(double.requests[0]?.headers.authorization, undefined);
    });

    it('a model the compatible endpoint was not registered for names the configured providers', async () => {
      const err = await failure('anthropic', compatible('json_schema'));
      assert.equal(err.type, FailureType.ProviderNotConfigured);
      assert.match(err.message, /configured: local/);
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
    await assert.rejects(registry.execute('tool:x', failing), (err: unknown) =>
      // Retryability comes from the failure table's row (a tool waits for the half-open probe).
      err instanceof ApplicationFailure && err.type === FailureType.CircuitOpen && err.nonRetryable === !failureRow(FailureType.CircuitOpen).retries,
    );
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
