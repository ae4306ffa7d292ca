import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import type { ProviderAdapter } from '../../activities/providers/adapter.js';
import { anthropicProvider } from '../../activities/providers/anthropic.js';
import { extractJson } from '../../activities/providers/json.js';
import { openaiCompatibleProvider } from '../../activities/providers/openai-compatible.js';
import { openaiProvider } from '../../activities/providers/openai.js';
import { callModel, createProviders, providersConfigFromEnv, providersFromEnv } from '../../activities/providers/registry.js';
import { FailureType } from '../../contracts/failures.js';
import { ModelRef, ProviderName, type ModelCallRequest } from '../../contracts/model.js';

/** Fast tests: no server. Adapters that need an HTTP answer get a `fetch` that returns a canned one. */

const request = (provider: string, maxOutputTokens = 100): ModelCallRequest => ({
  model: { provider, model: 'm' },
  temperature: 0,
  maxOutputTokens,
  system: 'classify',
  messages: [{ role: 'user', content: 'ticket' }],
  output: { name: 'classify_ticket', description: 'd', jsonSchema: { type: 'object', properties: { reason: { type: 'string' } } } },
  prompt: { name: 'p', version: 'v1' },
});

/** A stand-in adapter; `call` answers `{ ok: true }` unless given something to do. */
function fake(name: string, call?: ProviderAdapter['call'], extra: Partial<ProviderAdapter> = {}): ProviderAdapter {
  return {
    name,
    call: call ?? (async () => ({ text: '{"ok":true}', parsed: { ok: true }, parseError: null, usage: { inputTokens: 1, outputTokens: 1 }, stopReason: 'stop', requestId: null })),
    classify: (err) => ApplicationFailure.create({ type: FailureType.ModelServerError, message: `${name}: ${String(err)}` }),
    ...extra,
  };
}

interface Seen {
  readonly url: string;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
}

/** A `fetch` that records each request and answers 200 with `body`. */
function answering(body: unknown, seen: Seen[] = []): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    seen.push({ url: String(input), headers: new Headers(init?.headers), body: JSON.parse(String(init?.body ?? '{}')) as Record<string, unknown> });
    return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json', 'request-id': 'req_1', 'x-request-id': 'req_1' } });
  }) as typeof fetch;
}

const anthropicMessage = (content: unknown[], stopReason: string) => ({
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  model: 'm',
  content,
  stop_reason: stopReason,
  stop_sequence: null,
  usage: { input_tokens: 10, output_tokens: 100 },
});

const completion = (content: string, finishReason: string) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 0,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: finishReason, logprobs: null }],
  usage: { prompt_tokens: 10, completion_tokens: 100, total_tokens: 110 },
});

/** A reply that stopped mid-object: JSON repair would happily close it. */
const TRUNCATED = '{"category": "billing", "reason": "charged tw';

async function rejectsWith(promise: Promise<unknown>, type: string, message?: RegExp): Promise<ApplicationFailure> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(caught)}`);
  assert.equal(caught.type, type, caught.message);
  if (message) assert.match(caught.message, message);
  return caught;
}

describe('ProviderName: any registered name, held to a stable shape', () => {
  it('accepts lowercase names with digits, _ and -, up to 40 characters', () => {
    for (const name of ['anthropic', 'openai', 'local', 'local-vllm', 'azure_east2', 'a'.repeat(40)]) assert.ok(ProviderName.safeParse(name).success, name);
    assert.deepEqual(ModelRef.parse({ provider: 'local', model: 'llama3.1:8b' }), { provider: 'local', model: 'llama3.1:8b' });
  });

  it('rejects anything else, saying what a name may be', () => {
    for (const name of ['', 'Local', '1local', '-x', 'local vllm', 'a'.repeat(41), 'ollama/llama']) {
      const result = ProviderName.safeParse(name);
      assert.equal(result.success, false, name);
      assert.match(result.error!.issues[0]!.message, /lowercase letter/);
    }
  });
});

describe('createProviders: adapters registered by name', () => {
  it('finds each adapter by its name and lists them in order', () => {
    const a = fake('local');
    const b = fake('vllm');
    const providers = createProviders([a, b]);
    assert.deepEqual(providers.configured, ['local', 'vllm']);
    assert.equal(providers.get('vllm'), b);
    assert.equal(providers.get('openai'), undefined);
  });

  it('a name registered twice is an error naming it', () => {
    assert.throws(() => createProviders([fake('local'), fake('openai'), fake('local')]), /provider local is registered twice/);
    // The same holds across the old settings object: a compatible endpoint may not take a built-in's name.
    assert.throws(
      () => createProviders({ openai: { apiKey: 'k' }, openaiCompatible: [{ name: 'openai', baseURL: 'http://127.0.0.1:1/v1', structuredOutput: 'json_object' }] }),
      /provider openai is registered twice/,
    );
  });

  it('a bad name or something that is not an adapter is refused when the registry is made', () => {
    assert.throws(() => createProviders([fake('Local')]), /provider Local: invalid name "Local": .*lowercase letter/);
    assert.throws(() => createProviders([{ name: 'x', call: async () => ({}) } as unknown as ProviderAdapter]), /provider x must have call\(req\) and classify\(err\)/);
    assert.throws(() => createProviders([null as unknown as ProviderAdapter]), /provider adapter #1 is not an adapter object/);
  });

  it('still takes the old settings object, and builds the built-in adapters from it', () => {
    const providers = createProviders({
      anthropic: { apiKey: 'k' },
      openai: { apiKey: 'k', baseURL: 'http://127.0.0.1:1/v1' },
      openaiCompatible: [{ name: 'local', baseURL: 'http://127.0.0.1:1/v1', structuredOutput: 'json_schema' }],
      timeoutMs: 1000,
    });
    assert.deepEqual(providers.configured, ['anthropic', 'openai', 'local']);
    assert.deepEqual(createProviders({}).configured, []);
    assert.throws(() => createProviders({ anthropic: { apiKey: 'k' }, timeoutMs: -1 }), /provider anthropic: timeoutMs must be a positive whole number/);
  });

  it("merges the adapters' prices; one model name may not carry two prices", () => {
    const providers = createProviders([anthropicProvider({ apiKey: 'k' }), openaiProvider({ apiKey: 'k' }), fake('local', undefined, { prices: { 'llama-3.1-8b': { input: 0, output: 0 } } })]);
    assert.deepEqual(providers.prices['claude-haiku-4-5'], { input: 1, output: 5 });
    assert.deepEqual(providers.prices['gpt-4.1-mini'], { input: 0.4, output: 1.6 });
    assert.deepEqual(providers.prices['llama-3.1-8b'], { input: 0, output: 0 });
    // A gateway serving a listed model at the list price is fine; at another price it is ambiguous.
    createProviders([openaiProvider({ apiKey: 'k' }), fake('gateway', undefined, { prices: { 'gpt-4.1': { input: 2, output: 8 } } })]);
    assert.throws(
      () => createProviders([openaiProvider({ apiKey: 'k' }), fake('gateway', undefined, { prices: { 'gpt-4.1': { input: 1, output: 4 } } })]),
      /providers openai and gateway give model gpt-4.1 different prices/,
    );
  });

  it('an OpenAI-compatible endpoint checks its settings', () => {
    assert.throws(() => openaiCompatibleProvider({ name: 'local', baseURL: 'localhost:11434', structuredOutput: 'json_schema' }), /provider local: baseURL must be an absolute http\(s\) URL/);
    assert.throws(
      () => openaiCompatibleProvider({ name: 'local', baseURL: 'http://127.0.0.1:1/v1', structuredOutput: 'xml' as 'json_schema' }),
      /structuredOutput must be json_schema or json_object, got "xml"/,
    );
  });
});

describe('callModel through the registry', () => {
  it('an unknown provider is a non-retryable ProviderNotConfigured naming the configured ones', async () => {
    const providers = createProviders([fake('anthropic'), fake('local')]);
    const err = await rejectsWith(callModel(providers, request('vllm')), FailureType.ProviderNotConfigured, /provider vllm is not configured on this worker \(configured: anthropic, local\)/);
    assert.equal(err.nonRetryable, true);
    assert.match(err.message, /GOVERNOR_OPENAI_COMPATIBLE_NAME=vllm/);
    await rejectsWith(callModel(createProviders([]), request('openai')), FailureType.ProviderNotConfigured, /configured: none\); set OPENAI_API_KEY/);
  });

  it("adds model, prompt and latency to the adapter's reply", async () => {
    const result = await callModel(createProviders([fake('local')]), request('local'));
    assert.deepEqual(result.parsed, { ok: true });
    assert.deepEqual(result.model, { provider: 'local', model: 'm' });
    assert.deepEqual(result.prompt, { name: 'p', version: 'v1' });
    assert.ok(result.latencyMs >= 0);
  });

  it("errors go through the adapter's classify; its own failures pass through unchanged", async () => {
    const boom = fake('local', async () => {
      throw new Error('socket hang up');
    });
    await rejectsWith(callModel(createProviders([boom]), request('local')), FailureType.ModelServerError, /^local: Error: socket hang up/);
    const refusing = fake('local', async () => {
      throw ApplicationFailure.create({ type: FailureType.ModelRefused, message: 'no', nonRetryable: true });
    });
    await rejectsWith(callModel(createProviders([refusing]), request('local')), FailureType.ModelRefused);
  });

  it('a classify that throws or returns something else does not hide the error', async () => {
    const broken = fake(
      'local',
      async () => {
        throw new Error('original');
      },
      {
        classify: () => {
          throw new Error('classify bug');
        },
      },
    );
    const err = await rejectsWith(callModel(createProviders([broken]), request('local')), FailureType.ModelServerError, /local: original/);
    assert.equal(err.nonRetryable, false);
    const sloppy = fake('local', async () => Promise.reject(new Error('original')), { classify: () => 'oops' as unknown as ApplicationFailure });
    await rejectsWith(callModel(createProviders([sloppy]), request('local')), FailureType.ModelServerError, /local: original/);
  });
});

describe('providers from the environment', () => {
  const names = (env: NodeJS.ProcessEnv) => providersFromEnv(env).map((a) => a.name);

  it("reads the SDKs' own variables and one OpenAI-compatible endpoint", () => {
    assert.deepEqual(names({}), []);
    assert.deepEqual(names({ ANTHROPIC_API_KEY: 'a', OPENAI_API_KEY: 'o' }), ['anthropic', 'openai']);
    assert.deepEqual(names({ GOVERNOR_OPENAI_COMPATIBLE_URL: 'http://localhost:11434/v1' }), ['openai-compatible']);
    const config = providersConfigFromEnv({
      OPENAI_API_KEY: 'o',
      OPENAI_BASE_URL: 'https://gateway.example/v1',
      GOVERNOR_OPENAI_COMPATIBLE_URL: 'http://localhost:8000/v1',
      GOVERNOR_OPENAI_COMPATIBLE_NAME: 'vllm',
      GOVERNOR_OPENAI_COMPATIBLE_STRUCTURED_OUTPUT: 'json_object',
      GOVERNOR_MODEL_TIMEOUT_MS: '5000',
    });
    assert.deepEqual(config, {
      anthropic: undefined,
      openai: { apiKey: 'o', baseURL: 'https://gateway.example/v1' },
      // No key of its own: OPENAI_API_KEY is OpenAI's and is never sent to another server.
      openaiCompatible: [{ name: 'vllm', baseURL: 'http://localhost:8000/v1', apiKey: undefined, structuredOutput: 'json_object' }],
      timeoutMs: 5000,
    });
    assert.equal(providersConfigFromEnv({ GOVERNOR_OPENAI_COMPATIBLE_URL: 'http://h/v1' }).openaiCompatible?.[0]?.structuredOutput, 'json_schema');
  });

  it('empty variables count as unset', () => {
    assert.deepEqual(names({ ANTHROPIC_API_KEY: '', ANTHROPIC_BASE_URL: '', GOVERNOR_MODEL_TIMEOUT_MS: '', GOVERNOR_OPENAI_COMPATIBLE_URL: '' }), []);
  });

  it('a bad value is an error naming the variable', () => {
    const bad: Array<[NodeJS.ProcessEnv, RegExp]> = [
      [{ GOVERNOR_MODEL_TIMEOUT_MS: 'soon' }, /GOVERNOR_MODEL_TIMEOUT_MS must be a number of milliseconds/],
      [{ GOVERNOR_MODEL_TIMEOUT_MS: '1.5' }, /GOVERNOR_MODEL_TIMEOUT_MS must be a whole number/],
      [{ GOVERNOR_MODEL_TIMEOUT_MS: '0' }, /GOVERNOR_MODEL_TIMEOUT_MS must be positive/],
      [{ ANTHROPIC_API_KEY: 'a', ANTHROPIC_BASE_URL: 'api.anthropic.com' }, /ANTHROPIC_BASE_URL must be an http\(s\) URL/],
      [{ OPENAI_API_KEY: 'o', OPENAI_BASE_URL: 'ftp://example.com' }, /OPENAI_BASE_URL must be an http\(s\) URL/],
      [{ GOVERNOR_OPENAI_COMPATIBLE_URL: 'localhost:11434' }, /GOVERNOR_OPENAI_COMPATIBLE_URL must be an http\(s\) URL/],
      [{ GOVERNOR_OPENAI_COMPATIBLE_URL: 'http://h/v1', GOVERNOR_OPENAI_COMPATIBLE_NAME: 'My Server' }, /GOVERNOR_OPENAI_COMPATIBLE_NAME a provider name is 1-40 characters/],
      [{ GOVERNOR_OPENAI_COMPATIBLE_URL: 'http://h/v1', GOVERNOR_OPENAI_COMPATIBLE_STRUCTURED_OUTPUT: 'strict' }, /GOVERNOR_OPENAI_COMPATIBLE_STRUCTURED_OUTPUT must be json_schema or json_object/],
      [{ GOVERNOR_OPENAI_COMPATIBLE_NAME: 'local' }, /GOVERNOR_OPENAI_COMPATIBLE_NAME is set but GOVERNOR_OPENAI_COMPATIBLE_URL is not/],
    ];
    for (const [env, message] of bad) {
      assert.throws(() => providersFromEnv(env), (err: Error) => {
        assert.match(err.message, /^model provider settings in the environment are invalid: /);
        assert.match(err.message, message);
        return true;
      }, JSON.stringify(env));
    }
  });

  it('every bad variable is reported at once', () => {
    assert.throws(
      () => providersConfigFromEnv({ GOVERNOR_MODEL_TIMEOUT_MS: 'x', OPENAI_BASE_URL: 'nope' }),
      /OPENAI_BASE_URL must be an http\(s\) URL; GOVERNOR_MODEL_TIMEOUT_MS must be a number/,
    );
  });

  it('a compatible endpoint and OpenAI under the same name is the registry error', () => {
    assert.throws(
      () => createProviders(providersFromEnv({ OPENAI_API_KEY: 'o', GOVERNOR_OPENAI_COMPATIBLE_URL: 'http://h/v1', GOVERNOR_OPENAI_COMPATIBLE_NAME: 'openai' })),
      /provider openai is registered twice/,
    );
  });
});

describe('a reply cut off at maxOutputTokens is not read as an answer', () => {
  it('the truncated text is not repaired into an object: the reader reports where it stops', () => {
    assert.equal(extractJson(TRUNCATED).parsed, null);
    assert.match(extractJson(TRUNCATED).parseError ?? '', /ends before the value closes/);
  });

  it('Anthropic: stop_reason max_tokens, in prose or in a tool call that never finished', async () => {
    for (const content of [
      [{ type: 'text', text: TRUNCATED, citations: null }],
      [{ type: 'tool_use', id: 'toolu_1', name: 'classify_ticket', input: { category: 'billing' } }],
    ]) {
      const adapter = anthropicProvider({ apiKey: 'k', baseURL: 'http://double.invalid', fetch: answering(anthropicMessage(content, 'max_tokens')) });
      const result = await callModel(createProviders([adapter]), request('anthropic', 100));
      assert.equal(result.parsed, null, JSON.stringify(content));
      assert.match(result.parseError ?? '', /cut off at maxOutputTokens \(100\)/);
      assert.equal(result.stopReason, 'max_tokens');
      assert.ok(result.text.length > 0, 'the raw text is kept for the record');
      assert.equal(result.usage.outputTokens, 100);
    }
  });

  it('Anthropic: a complete tool call and a finished prose reply are read as before', async () => {
    const tool = anthropicProvider({
      apiKey: 'k',
      baseURL: 'http://double.invalid',
      fetch: answering(anthropicMessage([{ type: 'tool_use', id: 'toolu_1', name: 'classify_ticket', input: { category: 'billing' } }], 'tool_use')),
    });
    assert.deepEqual((await callModel(createProviders([tool]), request('anthropic'))).parsed, { category: 'billing' });
    const prose = anthropicProvider({ apiKey: 'k', baseURL: 'http://double.invalid', fetch: answering(anthropicMessage([{ type: 'text', text: '{"a":1}', citations: null }], 'end_turn')) });
    assert.deepEqual((await callModel(createProviders([prose]), request('anthropic'))).parsed, { a: 1 });
  });

  it('OpenAI and OpenAI-compatible: finish_reason length', async () => {
    const adapters = [
      openaiProvider({ apiKey: 'k', baseURL: 'http://double.invalid/v1', fetch: answering(completion(TRUNCATED, 'length')) }),
      openaiCompatibleProvider({ name: 'local', baseURL: 'http://double.invalid/v1', structuredOutput: 'json_object', fetch: answering(completion(TRUNCATED, 'length')) }),
    ];
    for (const adapter of adapters) {
      const result = await callModel(createProviders([adapter]), request(adapter.name, 64));
      assert.equal(result.parsed, null, adapter.name);
      assert.match(result.parseError ?? '', /cut off at maxOutputTokens \(64\)/);
      assert.equal(result.stopReason, 'length');
      assert.equal(result.text, TRUNCATED);
    }
    const finished = openaiProvider({ apiKey: 'k', baseURL: 'http://double.invalid/v1', fetch: answering(completion('{"a":1}', 'stop')) });
    assert.deepEqual((await callModel(createProviders([finished]), request('openai'))).parsed, { a: 1 });
  });
});

describe('what an OpenAI-compatible endpoint is sent', () => {
  it("none of OpenAI's credentials from the environment, and no Authorization header without a key", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { OPENAI_API_KEY: 'sk-openai', OPENAI_ORG_ID: 'org-1', OPENAI_PROJECT_ID: 'proj-1', OPENAI_ADMIN_KEY: 'admin-1' });
    const seen: Seen[] = [];
    let adapter: ProviderAdapter;
    try {
      adapter = openaiCompatibleProvider({ name: 'local', baseURL: 'http://local.invalid/v1', structuredOutput: 'json_schema', fetch: answering(completion('{}', 'stop'), seen) });
    } finally {
      for (const key of ['OPENAI_API_KEY', 'OPENAI_ORG_ID', 'OPENAI_PROJECT_ID', 'OPENAI_ADMIN_KEY']) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
    await callModel(createProviders([adapter]), request('local'));
    const headers = seen[0]!.headers;
    assert.equal(seen[0]!.url, 'http://local.invalid/v1/chat/completions');
    assert.equal(headers.get('authorization'), null);
    assert.equal(headers.get('openai-organization'), null);
    assert.equal(headers.get('openai-project'), null);
  });

  it('its own key as a bearer token; the schema strict or in the system prompt by mode', async () => {
    const seen: Seen[] = [];
    for (const structuredOutput of ['json_schema', 'json_object'] as const) {
      const adapter = openaiCompatibleProvider({ name: 'local', baseURL: 'http://local.invalid/v1', apiKey: 'local-key', structuredOutput, fetch: answering(completion('{}', 'stop'), seen) });
      await callModel(createProviders([adapter]), request('local'));
    }
    const [schema, object] = seen;
    assert.equal(schema!.headers.get('authorization'), 'Bearer local-key');
    assert.deepEqual((schema!.body.response_format as { type: string; json_schema: { strict: boolean } }).json_schema.strict, true);
    assert.deepEqual((schema!.body.messages as unknown[])[0], { role: 'system', content: 'classify' });
    assert.deepEqual(object!.body.response_format, { type: 'json_object' });
    const system = (object!.body.messages as Array<{ role: string; content: string }>)[0]!;
    assert.match(system.content, /^classify\n\nAnswer with a single JSON object/);
    assert.ok(system.content.includes('{"type":"object","properties":{"reason":{"type":"string"}}}'));
  });
});
