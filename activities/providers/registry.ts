import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import type { Price } from '../../contracts/budget.js';
import { FailureType } from '../../contracts/failures.js';
import { ProviderName, type ModelCallRequest } from '../../contracts/model.js';
import type { ProviderAdapter, ProviderResult } from './adapter.js';
import { anthropicProvider } from './anthropic.js';
import { providerFailure, unclassifiedFailure } from './errors.js';
import { openaiCompatibleProvider, type OpenAICompatibleSettings } from './openai-compatible.js';
import { openaiProvider } from './openai.js';

export type { ProviderAdapter, ProviderReply } from './adapter.js';

/** The providers a worker can call, by registered name. */
export interface Providers {
  /** The adapter registered under `name`, if any. */
  get(name: string): ProviderAdapter | undefined;
  /** Registered names, in registration order. */
  readonly configured: readonly string[];
  /** Every adapter's prices, merged by model name: a run's `budgets.prices` may start from these. */
  readonly prices: Readonly<Record<string, Price>>;
}

export interface ProviderSettings {
  readonly apiKey: string;
  /** Base URL of the API (a proxy, a gateway, or the model double). */
  readonly baseURL?: string;
}

/**
 * The built-in providers as one settings object (what `providersConfigFromEnv` returns). Code that registers its own
 * adapters passes an array to `createProviders` instead.
 */
export interface ProvidersConfig {
  readonly anthropic?: ProviderSettings;
  readonly openai?: ProviderSettings;
  /** OpenAI-compatible endpoints, each registered under its own name. */
  readonly openaiCompatible?: readonly Omit<OpenAICompatibleSettings, 'timeoutMs'>[];
  /**
   * Client-side timeout per request, for every provider above. Kept below the model activity's start-to-close
   * timeout so a hung provider surfaces as a classified, retryable `ModelTimeout`. Default 30 s.
   */
  readonly timeoutMs?: number;
}

/** The adapters a `ProvidersConfig` describes, Anthropic then OpenAI then the compatible endpoints. */
export function adaptersFromConfig(config: ProvidersConfig): ProviderAdapter[] {
  const { timeoutMs } = config;
  return [
    ...(config.anthropic ? [anthropicProvider({ ...config.anthropic, timeoutMs })] : []),
    ...(config.openai ? [openaiProvider({ ...config.openai, timeoutMs })] : []),
    ...(config.openaiCompatible ?? []).map((endpoint) => openaiCompatibleProvider({ ...endpoint, timeoutMs })),
  ];
}

/**
 * The worker's provider registry. Adapters are registered by name, each name once: a second adapter under the same
 * name is a configuration error, not a silent replacement. A `ProvidersConfig` (the built-in providers' settings) is
 * still accepted and turned into adapters.
 */
export function createProviders(adapters: readonly ProviderAdapter[] | ProvidersConfig): Providers {
  const list = isAdapterList(adapters) ? adapters : adaptersFromConfig(adapters);
  const byName = new Map<string, ProviderAdapter>();
  const prices: Record<string, Price> = {};
  const priceOwner = new Map<string, string>();
  for (const [i, adapter] of list.entries()) {
    checkAdapter(adapter, i);
    if (byName.has(adapter.name)) {
      throw new Error(
        `provider ${adapter.name} is registered twice: every adapter needs its own name ` +
          `(give the second one another name, e.g. ${adapter.name}-2)`,
      );
    }
    byName.set(adapter.name, adapter);
    for (const [model, price] of Object.entries(adapter.prices ?? {})) {
      const owner = priceOwner.get(model);
      const known = prices[model];
      // Budgets charge by model name: two different prices for one name would make the charge depend on order.
      if (owner !== undefined && known && (known.input !== price.input || known.output !== price.output)) {
        throw new Error(`providers ${owner} and ${adapter.name} give model ${model} different prices; a model name has one price`);
      }
      prices[model] = price;
      priceOwner.set(model, adapter.name);
    }
  }
  const configured = Object.freeze([...byName.keys()]);
  return Object.freeze({ get: (name: string) => byName.get(name), configured, prices: Object.freeze(prices) });
}

function isAdapterList(value: readonly ProviderAdapter[] | ProvidersConfig): value is readonly ProviderAdapter[] {
  return Array.isArray(value);
}

/** Adapters may come from plain JavaScript or from configuration: check the shape before the first call depends on it. */
function checkAdapter(adapter: ProviderAdapter, index: number): void {
  const label = typeof adapter?.name === 'string' ? `provider ${adapter.name}` : `provider adapter #${index + 1}`;
  if (typeof adapter !== 'object' || adapter === null) throw new Error(`${label} is not an adapter object`);
  const named = ProviderName.safeParse(adapter.name);
  if (!named.success) throw new Error(`${label}: invalid name ${JSON.stringify(adapter.name)}: ${named.error.issues[0]?.message}`);
  if (typeof adapter.call !== 'function' || typeof adapter.classify !== 'function') {
    throw new Error(`${label} must have call(req) and classify(err) functions`);
  }
}

/** Unset and empty are the same for an environment variable. */
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());
const url = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/** The variables `providersConfigFromEnv` reads, each checked on its own so an error names the variable. */
const ProviderEnv = z
  .object({
    ANTHROPIC_API_KEY: optional(z.string()),
    ANTHROPIC_BASE_URL: optional(url),
    OPENAI_API_KEY: optional(z.string()),
    OPENAI_BASE_URL: optional(url),
    GOVERNOR_MODEL_TIMEOUT_MS: optional(
      z.coerce.number({ error: 'must be a number of milliseconds' }).int('must be a whole number of milliseconds').positive('must be positive'),
    ),
    GOVERNOR_OPENAI_COMPATIBLE_URL: optional(url),
    GOVERNOR_OPENAI_COMPATIBLE_NAME: optional(ProviderName),
    GOVERNOR_OPENAI_COMPATIBLE_API_KEY: optional(z.string()),
    GOVERNOR_OPENAI_COMPATIBLE_STRUCTURED_OUTPUT: optional(z.enum(['json_schema', 'json_object'], { error: 'must be json_schema or json_object' })),
  })
  .superRefine((env, ctx) => {
    if (env.GOVERNOR_OPENAI_COMPATIBLE_URL) return;
    for (const key of ['GOVERNOR_OPENAI_COMPATIBLE_NAME', 'GOVERNOR_OPENAI_COMPATIBLE_API_KEY', 'GOVERNOR_OPENAI_COMPATIBLE_STRUCTURED_OUTPUT'] as const) {
      if (env[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'is set but GOVERNOR_OPENAI_COMPATIBLE_URL is not' });
    }
  });

/** The name an OpenAI-compatible endpoint from the environment is registered under when none is given. */
export const DEFAULT_OPENAI_COMPATIBLE_NAME = 'openai-compatible';

/**
 * Reads the providers from the environment: the SDKs' own variables, so a user's existing keys and base URLs work
 * unchanged, plus one OpenAI-compatible endpoint.
 *
 * | variable | meaning |
 * |---|---|
 * | `ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL` | Anthropic, registered as `anthropic` |
 * | `OPENAI_API_KEY`, `OPENAI_BASE_URL` | OpenAI, registered as `openai` |
 * | `GOVERNOR_OPENAI_COMPATIBLE_URL` | an OpenAI-compatible server's base URL (`http://localhost:11434/v1`) |
 * | `GOVERNOR_OPENAI_COMPATIBLE_NAME` | its registered name (default `openai-compatible`) |
 * | `GOVERNOR_OPENAI_COMPATIBLE_API_KEY` | its key, if it takes one (never `OPENAI_API_KEY`) |
 * | `GOVERNOR_OPENAI_COMPATIBLE_STRUCTURED_OUTPUT` | `json_schema` (default) or `json_object` |
 * | `GOVERNOR_MODEL_TIMEOUT_MS` | per-request timeout for all of them (default 30000) |
 *
 * A bad value is an error naming the variable, thrown before any worker starts.
 */
export function providersConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ProvidersConfig {
  const parsed = ProviderEnv.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.map(String).join('.')} ${issue.message}`);
    throw new Error(`model provider settings in the environment are invalid: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  return {
    anthropic: e.ANTHROPIC_API_KEY ? { apiKey: e.ANTHROPIC_API_KEY, baseURL: e.ANTHROPIC_BASE_URL } : undefined,
    openai: e.OPENAI_API_KEY ? { apiKey: e.OPENAI_API_KEY, baseURL: e.OPENAI_BASE_URL } : undefined,
    openaiCompatible: e.GOVERNOR_OPENAI_COMPATIBLE_URL
      ? [
          {
            name: e.GOVERNOR_OPENAI_COMPATIBLE_NAME ?? DEFAULT_OPENAI_COMPATIBLE_NAME,
            baseURL: e.GOVERNOR_OPENAI_COMPATIBLE_URL,
            apiKey: e.GOVERNOR_OPENAI_COMPATIBLE_API_KEY,
            structuredOutput: e.GOVERNOR_OPENAI_COMPATIBLE_STRUCTURED_OUTPUT ?? 'json_schema',
          },
        ]
      : undefined,
    timeoutMs: e.GOVERNOR_MODEL_TIMEOUT_MS,
  };
}

/** The adapters the environment describes (see `providersConfigFromEnv`), ready for `createProviders`. */
export function providersFromEnv(env: NodeJS.ProcessEnv = process.env): ProviderAdapter[] {
  return adaptersFromConfig(providersConfigFromEnv(env));
}

/** What to set to make a provider available, for the not-configured error. */
function howToConfigure(name: string): string {
  if (name === 'anthropic') return 'set ANTHROPIC_API_KEY';
  if (name === 'openai') return 'set OPENAI_API_KEY';
  return `set GOVERNOR_OPENAI_COMPATIBLE_URL with GOVERNOR_OPENAI_COMPATIBLE_NAME=${name}, or register an adapter named ${name}`;
}

/** One model call through the provider the request names; errors come back classified per the failure table. */
export async function callModel(providers: Providers, req: ModelCallRequest): Promise<ProviderResult> {
  const name = req.model.provider;
  const adapter = providers.get(name);
  if (!adapter) {
    const configured = providers.configured.length > 0 ? providers.configured.join(', ') : 'none';
    throw providerFailure(
      FailureType.ProviderNotConfigured,
      `provider ${name} is not configured on this worker (configured: ${configured}); ${howToConfigure(name)}`,
      { details: [{ provider: name, configured: [...providers.configured] }] },
    );
  }
  const started = performance.now();
  let reply;
  try {
    reply = await adapter.call(req);
  } catch (err) {
    if (err instanceof ApplicationFailure) throw err;
    throw classified(adapter, err);
  }
  return { ...reply, model: req.model, prompt: req.prompt, latencyMs: Math.round(performance.now() - started) };
}

/** An adapter's classification; one that throws, or returns something else, must not hide the original error. */
function classified(adapter: ProviderAdapter, err: unknown): ApplicationFailure {
  try {
    const failure = adapter.classify(err);
    if (failure instanceof ApplicationFailure) return failure;
  } catch {
    // fall through to the generic classification
  }
  return unclassifiedFailure(adapter.name, err);
}
