import OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { DEFAULT_PRICES, type Price } from '../../contracts/budget.js';
import { FailureType } from '../../contracts/failures.js';
import type { ModelCallRequest } from '../../contracts/model.js';
import { timeoutOf, type AdapterSettings, type ProviderAdapter, type ProviderReply } from './adapter.js';
import { classifySdkError, modelRefused, providerFailure } from './errors.js';
import { readReply, toOpenAIStrictSchema } from './json.js';

export interface OpenAISettings extends AdapterSettings {
  readonly apiKey: string;
  /** Base URL of the API (a proxy, the model double); default the SDK's, or `OPENAI_BASE_URL`. */
  readonly baseURL?: string;
  /** Registered name (default `openai`). For a server that is not OpenAI, use `openaiCompatibleProvider`. */
  readonly name?: string;
}

/** List prices of the GPT models, from the one price table. */
export const OPENAI_PRICES: Readonly<Record<string, Price>> = Object.fromEntries(
  Object.entries(DEFAULT_PRICES).filter(([model]) => model.startsWith('gpt-')),
);

/**
 * How structured output is asked of a Chat Completions server:
 * - `json_schema`: a strict JSON schema (`response_format.json_schema`, `strict: true`), enforced by the server;
 * - `json_object`: JSON mode (`response_format.type: "json_object"`), for servers without strict schemas; the
 *   server only promises some JSON object, so the schema is described in the system prompt and the workflow's
 *   validation does the rest.
 */
export type StructuredOutputMode = 'json_schema' | 'json_object';

/** OpenAI's Chat Completions API through the `openai` SDK, with strict structured outputs. */
export function openaiProvider(settings: OpenAISettings): ProviderAdapter {
  const name = settings.name ?? 'openai';
  // maxRetries 0: Temporal's retry policy is the only retry loop.
  const client = new OpenAI({
    apiKey: settings.apiKey,
    baseURL: settings.baseURL,
    maxRetries: 0,
    timeout: timeoutOf(name, settings.timeoutMs),
    ...(settings.fetch ? { fetch: settings.fetch } : {}),
  });
  return chatCompletionsAdapter(client, name, 'json_schema', settings.prices ?? OPENAI_PRICES);
}

/**
 * An adapter over any Chat Completions client: OpenAI itself and every OpenAI-compatible server share the call, the
 * reading of the reply and the error classification; only the client, the name and the structured-output mode differ.
 */
export function chatCompletionsAdapter(
  client: OpenAI,
  name: string,
  mode: StructuredOutputMode,
  prices: Readonly<Record<string, Price>> | undefined,
): ProviderAdapter {
  return {
    name,
    ...(prices ? { prices } : {}),
    call: (req) => callChatCompletions(client, name, mode, req),
    classify: (err) => classifySdkError(name, err, OpenAI),
  };
}

function body(mode: StructuredOutputMode, req: ModelCallRequest): ChatCompletionCreateParamsNonStreaming {
  const messages = req.messages.map((m) => ({ role: m.role, content: m.content }));
  const common = { model: req.model.model, temperature: req.temperature, max_completion_tokens: req.maxOutputTokens };
  if (mode === 'json_schema') {
    return {
      ...common,
      messages: [{ role: 'system', content: req.system }, ...messages],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: req.output.name,
          description: req.output.description,
          schema: toOpenAIStrictSchema(req.output.jsonSchema) as Record<string, unknown>,
          strict: true,
        },
      },
    };
  }
  return {
    ...common,
    messages: [{ role: 'system', content: `${req.system}\n\n${schemaInstruction(req)}` }, ...messages],
    response_format: { type: 'json_object' },
  };
}

/**
 * JSON mode promises a JSON object, not which one: the system prompt carries the schema. (OpenAI's JSON mode also
 * requires the word "JSON" in the messages; this says it.)
 */
export function schemaInstruction(req: ModelCallRequest): string {
  return [
    `Answer with a single JSON object and nothing else: no prose, no code fence. It is the "${req.output.name}" output`,
    `(${req.output.description}) and must conform to this JSON Schema:`,
    JSON.stringify(req.output.jsonSchema),
  ].join('\n');
}

async function callChatCompletions(client: OpenAI, name: string, mode: StructuredOutputMode, req: ModelCallRequest): Promise<ProviderReply> {
  const { data: completion, request_id } = await client.chat.completions.create(body(mode, req)).withResponse();
  const choice = completion.choices[0];
  if (!choice) throw providerFailure(FailureType.ModelServerError, `${name} returned no choices`);
  if (choice.message.refusal) throw modelRefused(name, choice.message.refusal);
  if (choice.finish_reason === 'content_filter') throw modelRefused(name, 'finish_reason content_filter');
  const text = choice.message.content ?? '';
  const usage = { inputTokens: completion.usage?.prompt_tokens ?? 0, outputTokens: completion.usage?.completion_tokens ?? 0 };
  // `length`: the reply stopped at max_completion_tokens (no tool calls are asked for, so none can be complete).
  const cutOff = choice.finish_reason === 'length';
  return {
    text,
    ...readReply(text, { cutOff, maxOutputTokens: req.maxOutputTokens }),
    usage,
    stopReason: choice.finish_reason,
    requestId: request_id ?? null,
  };
}
