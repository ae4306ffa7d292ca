import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ModelDouble } from 'governor/testing';
import { countTokens, createProviders, tokenizerCountRequest } from 'governor/worker';

const REQUEST = {
  system: 'You classify support tickets. Answer through the tool.',
  messages: [
    { role: 'user' as const, content: 'My card was charged twice after the upgrade; please fix it.' },
    { role: 'assistant' as const, content: '{"category":"billing","urgency":"high"}' },
  ],
};

describe('counting a request\'s tokens: the provider\'s count where it has one, a real tokenizer otherwise', () => {
  let double: ModelDouble;
  before(async () => {
    double = await ModelDouble.start();
  });
  after(async () => {
    await double?.close();
  });

  it('Anthropic: the SDK\'s count_tokens call; OpenAI: the o200k_base tokenizer; a provider that cannot count falls back, saying so', async () => {
    const providers = createProviders({ anthropic: { apiKey: 'k', baseURL: double.anthropicBaseURL }, openai: { apiKey: 'k', baseURL: double.openaiBaseURL } });
    const anthropic = await countTokens(providers.get('anthropic'), { model: { provider: 'anthropic', model: 'claude-haiku-4-5' }, ...REQUEST });
    assert.equal(anthropic.method, 'provider');
    assert.equal(double.countRequests, 1, 'the real SDK called the counting endpoint');
    assert.equal(anthropic.tokens, tokenizerCountRequest(REQUEST));
    const openai = await countTokens(providers.get('openai'), { model: { provider: 'openai', model: 'gpt-4.1-mini' }, ...REQUEST });
    assert.deepEqual(openai, { tokens: tokenizerCountRequest(REQUEST), method: 'o200k_base' });
    const down = createProviders({ anthropic: { apiKey: 'k', baseURL: 'http://127.0.0.1:1' }, timeoutMs: 500 });
    const fallback = await countTokens(down.get('anthropic'), { model: { provider: 'anthropic', model: 'claude-haiku-4-5' }, ...REQUEST });
    assert.deepEqual(fallback, { tokens: tokenizerCountRequest(REQUEST), method: 'o200k_base (provider count unavailable)' });
  });
});
