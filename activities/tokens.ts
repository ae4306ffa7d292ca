import { Tiktoken } from 'js-tiktoken/lite';
import o200k from 'js-tiktoken/ranks/o200k_base';
import type { ChatMessage, ModelRef, PromptRef } from '../contracts/model.js';
import type { ProviderAdapter } from './providers/adapter.js';

/** What a count is of: a model's system prompt and messages. */
export interface TokenCountRequest {
  readonly model: ModelRef;
  readonly system?: string;
  /** A registered prompt named by its pin, counted by the system prompt the registry holds under its hash. */
  readonly prompt?: PromptRef;
  readonly messages: readonly ChatMessage[];
}

export interface TokenCount {
  readonly tokens: number;
  /** `provider` (the provider's own count, e.g. Anthropic's count_tokens) or the tokenizer's encoding name. */
  readonly method: string;
}

/** Per-message framing the tokenizer cannot see (role markers, separators): OpenAI's documented 3 tokens, and 3 to prime the reply. */
const PER_MESSAGE = 3;
const PER_REPLY = 3;

let encoder: Tiktoken | undefined;

/**
 * Tokens in a text by a real BPE tokenizer (`o200k_base`, the encoding of current OpenAI models, through js-tiktoken):
 * the estimate for providers with no counting endpoint. Never a characters-per-token guess.
 */
export function tokenizerCount(text: string): number {
  encoder ??= new Tiktoken(o200k);
  return encoder.encode(text, 'all').length;
}

/** The tokenizer's count of a whole request: system prompt, each message with its framing. */
export function tokenizerCountRequest(req: Omit<TokenCountRequest, 'model'>): number {
  let n = PER_REPLY + (req.system ? tokenizerCount(req.system) + PER_MESSAGE : 0);
  for (const m of req.messages) n += PER_MESSAGE + tokenizerCount(m.content);
  return n;
}

/**
 * Counts a request's input tokens: the provider's own count where its SDK offers one (`ProviderAdapter.countTokens`),
 * else the tokenizer's. A provider that cannot count right now (a network error) falls back to the tokenizer and
 * says so in `method`: a context budget must not stall a run on an estimate.
 */
export async function countTokens(adapter: ProviderAdapter | undefined, req: TokenCountRequest): Promise<TokenCount> {
  if (adapter?.countTokens) {
    try {
      return { tokens: await adapter.countTokens(req), method: 'provider' };
    } catch {
      return { tokens: tokenizerCountRequest(req), method: 'o200k_base (provider count unavailable)' };
    }
  }
  return { tokens: tokenizerCountRequest(req), method: 'o200k_base' };
}
