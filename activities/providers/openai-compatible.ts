import OpenAI from 'openai';
import type { AdapterSettings, ProviderAdapter } from './adapter.js';
import { timeoutOf } from './adapter.js';
import { chatCompletionsAdapter, type StructuredOutputMode } from './openai.js';

export interface OpenAICompatibleSettings extends AdapterSettings {
  /** Registered name, used as `ModelRef.provider` (e.g. `local`, `vllm`): required, the server is the user's. */
  readonly name: string;
  /** Base URL up to and including the API version, as the OpenAI SDK takes it: `http://localhost:11434/v1`. */
  readonly baseURL: string;
  /** Sent as a bearer token; leave it out for a server that takes none (then no Authorization header is sent). */
  readonly apiKey?: string;
  /**
   * `json_schema` for servers that enforce a strict JSON schema (vLLM, recent Ollama, most gateways); `json_object`
   * for servers that only have JSON mode, with the schema described in the system prompt instead.
   */
  readonly structuredOutput: StructuredOutputMode;
}

/**
 * Any server that speaks OpenAI's Chat Completions API: a local vLLM, Ollama or LM Studio, a hosted gateway. Same
 * call, reply reading and error classification as `openaiProvider`; no list prices (give `prices` for budgets to
 * count it below `UNKNOWN_MODEL_PRICE`).
 *
 * Nothing is read from the environment: the OpenAI SDK would otherwise fill a missing key, organisation or project
 * from `OPENAI_API_KEY`, `OPENAI_ORG_ID`, `OPENAI_PROJECT_ID`, and send OpenAI's credentials to this server.
 */
export function openaiCompatibleProvider(settings: OpenAICompatibleSettings): ProviderAdapter {
  const { name, baseURL, structuredOutput } = settings;
  // `localhost:11434` parses as a URL with the scheme "localhost:", so the scheme is checked, not just the parse.
  if (!/^https?:$/.test(URL.parse(baseURL)?.protocol ?? '')) {
    throw new Error(`provider ${name}: baseURL must be an absolute http(s) URL such as http://localhost:11434/v1, got ${JSON.stringify(baseURL)}`);
  }
  if (structuredOutput !== 'json_schema' && structuredOutput !== 'json_object') {
    throw new Error(`provider ${name}: structuredOutput must be json_schema or json_object, got ${JSON.stringify(structuredOutput)}`);
  }
  const client = new OpenAI({
    // The SDK refuses to start without a key; with none given, a placeholder satisfies it and the header is dropped.
    apiKey: settings.apiKey || 'none',
    adminAPIKey: null,
    organization: null,
    project: null,
    webhookSecret: null,
    baseURL,
    maxRetries: 0,
    timeout: timeoutOf(name, settings.timeoutMs),
    ...(settings.apiKey ? {} : { defaultHeaders: { Authorization: null } }),
    ...(settings.fetch ? { fetch: settings.fetch } : {}),
  });
  return chatCompletionsAdapter(client, name, structuredOutput, settings.prices);
}
