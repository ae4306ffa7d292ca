import type { ApplicationFailure } from '@temporalio/common';
import type { Price } from '../../contracts/budget.js';
import type { ModelCallRequest, ModelCallResult } from '../../contracts/model.js';

/** What an adapter's `call` returns, the text always; the registry adds the model, the prompt and the measured latency. */
export type ProviderReply = Omit<ModelCallResult, 'model' | 'prompt' | 'latencyMs' | 'text'> & { readonly text: string };

/** A provider's answer as the registry returns it, before the activity leaves out a text the parsed value repeats. */
export type ProviderResult = ModelCallResult & { readonly text: string };

/**
 * A model provider, behind the one interface the model-call activity uses. Governor ships three: `anthropicProvider`
 * (anthropic.ts), `openaiProvider` (openai.ts) and `openaiCompatibleProvider` (openai-compatible.ts, any server that
 * speaks the Chat Completions API: vLLM, Ollama, LM Studio, a gateway). Another provider is one file that exports a
 * function returning this object, passed to `createProviders([...])` on the worker; nothing global is edited.
 *
 * Writing one:
 *
 * - `name` is how prompt specs and runs name the provider (`ModelRef.provider`): lowercase, 1-40 characters,
 *   `^[a-z][a-z0-9_-]{0,39}$`, unique on the worker. Let the user choose it when one adapter can serve several
 *   endpoints.
 *
 * - `call(req)` makes exactly one request. Turn the client's own retries off (`maxRetries: 0` in the Stainless SDKs):
 *   Temporal's retry policy is the only retry loop, so attempts never multiply (an SDK retrying twice inside each of
 *   three activity attempts makes nine calls). Give the client a timeout below the model activity's start-to-close
 *   timeout (30 s by default, `DEFAULT_MODEL_TIMEOUT_MS`), so a hung provider is a classified, retryable
 *   `ModelTimeout` rather than an opaque activity timeout. Ask for structured output the provider's strongest way
 *   (a forced tool call, a strict JSON schema) and send no temperature the API rejects. Read the reply's text with
 *   `readReply` (json.ts): set `cutOff` when the reply ended at the output-token limit, so a truncated answer is not
 *   repaired into a value the model never finished. A malformed reply is not a failure: return it with `parsed: null`
 *   and a `parseError`; validating is the workflow's job. Return `usage` as the provider counted it, the provider's
 *   stop reason and request id (or null).
 *
 * - A refusal or content-policy stop is thrown from `call` as `modelRefused(name, detail)` (errors.ts): the
 *   non-retryable `ModelRefused`, which sends the workflow to its fallback model or to review.
 *
 * - `classify(err)` maps anything `call` threw onto the failure table in DESIGN.md and returns the
 *   `ApplicationFailure` to raise; an `ApplicationFailure` (the refusal above) comes back unchanged. Do not write the
 *   table again: `classifySdkError(name, err, SdkClass)` handles a Stainless SDK, and `classifyHttpError`,
 *   `timeoutFailure`, `connectionFailure`, `unclassifiedFailure` cover a hand-written `fetch`. In short: 429 is
 *   retryable `RateLimited` with `nextRetryDelay` from `retry-after`; 503/529 `ModelOverloaded`, other 5xx, 409,
 *   timeouts and broken connections are retryable; 401/403 (`ModelAuthFailed`) and other 4xx (`ModelBadRequest`:
 *   a bad request, an unknown model) are non-retryable.
 *
 * - `prices` (optional): USD per million tokens for the models this provider serves, keyed by model name, as in
 *   `DEFAULT_PRICES` (contracts/budget.ts). The registry merges them (`Providers.prices`) for the run's budgets; a
 *   model without a price is charged at `UNKNOWN_MODEL_PRICE`, so an unpriced model never slips under a budget.
 */
export interface ProviderAdapter {
  readonly name: string;
  call(req: ModelCallRequest): Promise<ProviderReply>;
  classify(err: unknown): ApplicationFailure;
  readonly prices?: Readonly<Record<string, Price>>;
  /** The provider's own count of a request's input tokens, where its API offers one (Anthropic's count_tokens). */
  countTokens?(req: { readonly model: ModelCallRequest['model']; readonly system?: string; readonly messages: ModelCallRequest['messages'] }): Promise<number>;
}

/**
 * Client-side timeout per request when an adapter is given none. Kept below the model activity's start-to-close
 * timeout so a hung provider surfaces as a classified, retryable `ModelTimeout`.
 */
export const DEFAULT_MODEL_TIMEOUT_MS = 30_000;

/**
 * Settings every built-in adapter takes. `fetch` replaces the client's HTTP function (a proxy agent, a recording
 * in tests); leave it out to use the global `fetch`.
 */
export interface AdapterSettings {
  /** Per-request timeout in milliseconds (default `DEFAULT_MODEL_TIMEOUT_MS`). */
  readonly timeoutMs?: number;
  /** Prices of the models served, USD per million tokens; the built-in adapters default to the list prices. */
  readonly prices?: Readonly<Record<string, Price>>;
  readonly fetch?: typeof globalThis.fetch;
}

/** Checks a timeout given in code, where zod would be heavy: a positive whole number of milliseconds. */
export function timeoutOf(provider: string, timeoutMs: number | undefined): number {
  if (timeoutMs === undefined) return DEFAULT_MODEL_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
    throw new Error(`provider ${provider}: timeoutMs must be a positive whole number of milliseconds, got ${timeoutMs}`);
  }
  return timeoutMs;
}
