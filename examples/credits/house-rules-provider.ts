/**
 * A provider, in one file: an adapter behind Governor's provider interface, registered on the worker by name
 * (`createProviders([...adaptersFromConfig(config), houseRulesProvider()])`) and named by runs and prompts as
 * `{ provider: 'house-rules', model: 'credits-v1' }`. This one is the team's own rules engine, not a model: a
 * deterministic answer with no network, useful as the last model of a fallback chain. An adapter for a hosted model
 * is the same shape with an SDK call in `call` and the SDK's errors mapped in `classify`.
 */
import { retryableFailure } from 'governor';
import type { ProviderAdapter } from 'governor/worker';

export function houseRulesProvider(): ProviderAdapter {
  return {
    name: 'house-rules',
    // Prices are data: this engine costs nothing per token, so budgets charge it nothing.
    prices: { 'credits-v1': { input: 0, output: 0 } },
    async call(req) {
      const text = req.messages.map((m) => m.content).join('\n');
      const late = /\blate\b/i.test(text);
      const value = { grant: late, amountCents: late ? 500 : 0, reason: late ? 'House rule: a late delivery earns a 5.00 credit.' : 'No house rule applies.' };
      const json = JSON.stringify(value);
      return {
        text: json,
        parsed: value,
        parseError: null,
        usage: { inputTokens: Math.ceil(text.length / 4), outputTokens: Math.ceil(json.length / 4) },
        stopReason: 'end_turn',
        requestId: null,
      };
    },
    // Nothing here talks to a network; anything thrown is a bug in the rules, worth a bounded retry.
    classify: (err) => retryableFailure('ModelServerError', `house-rules: ${err instanceof Error ? err.message : String(err)}`),
  };
}
