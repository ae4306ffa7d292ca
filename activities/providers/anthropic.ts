import Anthropic from '@anthropic-ai/sdk';
import { DEFAULT_PRICES, type Price } from '../../contracts/budget.js';
import type { ModelCallRequest } from '../../contracts/model.js';
import { timeoutOf, type AdapterSettings, type ProviderAdapter, type ProviderReply } from './adapter.js';
import { classifySdkError, modelRefused } from './errors.js';
import { readReply } from './json.js';

export interface AnthropicSettings extends AdapterSettings {
  readonly apiKey: string;
  /** Base URL of the Messages API (a proxy, a gateway, the model double); default the SDK's, or `ANTHROPIC_BASE_URL`. */
  readonly baseURL?: string;
  /** Registered name (default `anthropic`): name a second Anthropic account or gateway differently. */
  readonly name?: string;
}

/** Stop reasons meaning the reply ended at a length limit rather than where the model finished it. */
const CUT_OFF = new Set<string>(['max_tokens', 'model_context_window_exceeded']);

/** List prices of the Claude models, from the one price table. */
export const ANTHROPIC_PRICES: Readonly<Record<string, Price>> = Object.fromEntries(
  Object.entries(DEFAULT_PRICES).filter(([model]) => model.startsWith('claude-')),
);

/**
 * Anthropic's Messages API through `@anthropic-ai/sdk`. Structured output is a forced tool call whose input schema is
 * the output schema; a reply in prose instead is read for JSON.
 */
export function anthropicProvider(settings: AnthropicSettings): ProviderAdapter {
  const name = settings.name ?? 'anthropic';
  // maxRetries 0: Temporal's retry policy is the only retry loop.
  const client = new Anthropic({
    apiKey: settings.apiKey,
    baseURL: settings.baseURL,
    maxRetries: 0,
    timeout: timeoutOf(name, settings.timeoutMs),
    ...(settings.fetch ? { fetch: settings.fetch } : {}),
  });
  return {
    name,
    prices: settings.prices ?? ANTHROPIC_PRICES,
    call: (req) => callAnthropic(client, name, req),
    classify: (err) => classifySdkError(name, err, Anthropic),
    async countTokens(req) {
      const counted = await client.messages.countTokens({
        model: req.model.model,
        ...(req.system ? { system: req.system } : {}),
        messages: req.messages.map((m) => ({ role: m.role, content: m.content })),
      });
      return counted.input_tokens;
    },
  };
}

async function callAnthropic(client: Anthropic, name: string, req: ModelCallRequest): Promise<ProviderReply> {
  const { data: message, request_id } = await client.messages
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
  const text = message.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
  if (message.stop_reason === 'refusal') throw modelRefused(name, text || 'stop_reason refusal');
  const usage = { inputTokens: message.usage.input_tokens, outputTokens: message.usage.output_tokens };
  const requestId = request_id ?? null;
  // A forced tool call is complete when the model stopped to call it; cut off at the token limit, the block holds
  // whatever input was generated so far, which is not an answer.
  const cutOff = message.stop_reason !== null && CUT_OFF.has(message.stop_reason);
  const toolUse = message.content.find((b) => b.type === 'tool_use' && b.name === req.output.name);
  if (toolUse && toolUse.type === 'tool_use') {
    const raw = JSON.stringify(toolUse.input);
    if (cutOff) return { text: raw, ...readReply(raw, { cutOff, maxOutputTokens: req.maxOutputTokens }), usage, stopReason: message.stop_reason, requestId };
    return { text: raw, parsed: toolUse.input, parseError: null, usage, stopReason: message.stop_reason, requestId };
  }
  // The model answered in prose instead of calling the tool: read JSON from the text, or report why not.
  return { text, ...readReply(text, { cutOff, maxOutputTokens: req.maxOutputTokens }), usage, stopReason: message.stop_reason, requestId };
}
