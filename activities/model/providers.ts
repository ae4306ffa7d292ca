import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../contracts/failures';
import type { ModelCallRequest, ModelCallResult, ProviderName } from '../../contracts/model';
import { classifyProviderError } from './errors';
import { extractJson, toOpenAIStrictSchema } from './parse';

export interface ProviderSettings {
  readonly apiKey: string;
  /** Base URL of the API (an OpenAI-compatible local server, a proxy, or the model double). */
  readonly baseURL?: string;
}

export interface ProvidersConfig {
  readonly anthropic?: ProviderSettings;
  readonly openai?: ProviderSettings;
  /**
   * Client-side timeout per request. Kept below the model activity's start-to-close timeout so a hung provider
   * surfaces as a classified, retryable `ModelTimeout` rather than an opaque activity timeout. Default 30 s.
   */
  readonly timeoutMs?: number;
}

export interface Providers {
  readonly anthropic?: Anthropic;
  readonly openai?: OpenAI;
  readonly configured: readonly ProviderName[];
}

/**
 * Builds the real SDK clients. `maxRetries: 0` on both: Temporal's retry policy is the only retry loop, so attempts
 * never multiply (an SDK retrying 2x inside each of 3 activity attempts would make 9 calls).
 */
export function createProviders(config: ProvidersConfig): Providers {
  const timeout = config.timeoutMs ?? 30_000;
  const anthropic = config.anthropic
    ? new Anthropic({ apiKey: config.anthropic.apiKey, baseURL: config.anthropic.baseURL, maxRetries: 0, timeout })
    : undefined;
  const openai = config.openai
    ? new OpenAI({ apiKey: config.openai.apiKey, baseURL: config.openai.baseURL, maxRetries: 0, timeout })
    : undefined;
  const configured: ProviderName[] = [];
  if (anthropic) configured.push('anthropic');
  if (openai) configured.push('openai');
  return { anthropic, openai, configured };
}

/** Reads the SDKs' own variables, so a user's existing keys and base URLs work unchanged. */
export function providersConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ProvidersConfig {
  return {
    anthropic: env.ANTHROPIC_API_KEY
      ? { apiKey: env.ANTHROPIC_API_KEY, baseURL: env.ANTHROPIC_BASE_URL || undefined }
      : undefined,
    openai: env.OPENAI_API_KEY ? { apiKey: env.OPENAI_API_KEY, baseURL: env.OPENAI_BASE_URL || undefined } : undefined,
    timeoutMs: env.GOVERNOR_MODEL_TIMEOUT_MS ? Number(env.GOVERNOR_MODEL_TIMEOUT_MS) : undefined,
  };
}

function refused(provider: string, detail: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.ModelRefused,
    message: `${provider} refused to answer: ${detail}`,
    nonRetryable: true,
  });
}

/** One model call through the real SDK; errors come back classified per the failure table. */
export async function callModel(providers: Providers, req: ModelCallRequest): Promise<ModelCallResult> {
  const started = performance.now();
  const provider = req.model.provider;
  try {
    const reply = provider === 'anthropic' ? await callAnthropic(providers, req) : await callOpenAI(providers, req);
    return { ...reply, model: req.model, prompt: req.prompt, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    throw classifyProviderError(err, provider);
  }
}

type Reply = Omit<ModelCallResult, 'model' | 'prompt' | 'latencyMs'>;

function notConfigured(provider: ProviderName): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.ProviderNotConfigured,
    message: `provider ${provider} is not configured on this worker (set ${provider === 'anthropic' ? 'ANTHROPIC_API_KEY' : 'OPENAI_API_KEY'})`,
    nonRetryable: true,
  });
}

async function callAnthropic(providers: Providers, req: ModelCallRequest): Promise<Reply> {
  if (!providers.anthropic) throw notConfigured('anthropic');
  const { data: message, request_id } = await providers.anthropic.messages
    .create({
      model: req.model.model,
      max_tokens: req.maxOutputTokens,
      // No temperature: the current Messages API no longer takes one. Determinism comes from the pinned model,
      // the versioned prompt and the forced tool schema.
      system: req.system,
      messages: req.messages.map((m) => ({ role: m.role, content: m.content })),
      // Structured output through a forced tool call: the schema is the tool's input schema.
      tools: [
        {
          name: req.output.name,
          description: req.output.description,
          input_schema: req.output.jsonSchema as Anthropic.Tool.InputSchema,
        },
      ],
      tool_choice: { type: 'tool', name: req.output.name },
    })
    .withResponse();
  if (message.stop_reason === 'refusal') {
    const text = message.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    throw refused('anthropic', text || 'stop_reason refusal');
  }
  const usage = { inputTokens: message.usage.input_tokens, outputTokens: message.usage.output_tokens };
  const toolUse = message.content.find((b) => b.type === 'tool_use' && b.name === req.output.name);
  if (toolUse && toolUse.type === 'tool_use') {
    return { text: JSON.stringify(toolUse.input), parsed: toolUse.input, parseError: null, usage, stopReason: message.stop_reason, requestId: request_id ?? null };
  }
  // The model answered in prose instead of calling the tool: read JSON from the text, or report why not.
  const text = message.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
  return { text, ...extractJson(text), usage, stopReason: message.stop_reason, requestId: request_id ?? null };
}

async function callOpenAI(providers: Providers, req: ModelCallRequest): Promise<Reply> {
  if (!providers.openai) throw notConfigured('openai');
  const { data: completion, request_id } = await providers.openai.chat.completions
    .create({
      model: req.model.model,
      temperature: req.temperature,
      max_completion_tokens: req.maxOutputTokens,
      messages: [{ role: 'system', content: req.system }, ...req.messages.map((m) => ({ role: m.role, content: m.content }))],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: req.output.name,
          description: req.output.description,
          schema: toOpenAIStrictSchema(req.output.jsonSchema) as Record<string, unknown>,
          strict: true,
        },
      },
    })
    .withResponse();
  const choice = completion.choices[0];
  if (!choice) throw ApplicationFailure.create({ type: FailureType.ModelServerError, message: 'openai returned no choices' });
  if (choice.message.refusal) throw refused('openai', choice.message.refusal);
  if (choice.finish_reason === 'content_filter') throw refused('openai', 'finish_reason content_filter');
  const text = choice.message.content ?? '';
  const usage = { inputTokens: completion.usage?.prompt_tokens ?? 0, outputTokens: completion.usage?.completion_tokens ?? 0 };
  return { text, ...extractJson(text), usage, stopReason: choice.finish_reason, requestId: request_id ?? null };
}
