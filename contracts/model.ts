import { z } from 'zod';

/** The adapters Governor ships; any other adapter registered on the worker is named by its own `name`. */
export const BUILT_IN_PROVIDERS = ['anthropic', 'openai'] as const;

/**
 * A provider is any adapter registered on the worker, by its name: `anthropic`, `openai`, or a name the user chose
 * (`local`, `vllm`, `azure-east`). The name is data in prompt specs, run inputs and history, so it is held to a
 * short, stable shape. `options` lists the built-in names (it was the enum's list before providers became open).
 */
export const ProviderName = Object.assign(
  z
    .string()
    .regex(
      /^[a-z][a-z0-9_-]{0,39}$/,
      'a provider name is 1-40 characters: a lowercase letter, then lowercase letters, digits, _ or - (e.g. anthropic, openai, local-vllm)',
    ),
  { options: BUILT_IN_PROVIDERS },
);
export type ProviderName = z.infer<typeof ProviderName>;

/** Which model answers: resolved once per run and recorded in history, so replay never re-decides it. */
export const ModelRef = z.strictObject({
  provider: ProviderName,
  model: z.string().min(1),
});
export type ModelRef = z.infer<typeof ModelRef>;

export interface ChatMessage {
  readonly role: 'user' | 'assistant';
  readonly content: string;
}

/** What the workflow asks the model-call activity to do; everything needed to reproduce the call is in here. */
export interface ModelCallRequest {
  readonly model: ModelRef;
  readonly temperature: number;
  readonly maxOutputTokens: number;
  readonly system: string;
  readonly messages: readonly ChatMessage[];
  /** Structured output: a name and the JSON Schema derived once from the zod schema. */
  readonly output: { readonly name: string; readonly description: string; readonly jsonSchema: Record<string, unknown> };
  readonly prompt: { readonly name: string; readonly version: string };
  /** Which attempt of the model-call activity answered: 1, plus the transport retries Temporal made before it. */
  readonly attempt?: number;
  /**
   * The response cache, read and written by the call itself: `read` answers from an answer cached for exactly this
   * prompt version, model and input (no provider is asked); `write` caches a fresh answer that has a parsed value,
   * replacing what was there. Absent: the call leaves the cache alone.
   */
  readonly cache?: { readonly read: boolean; readonly write: boolean };
}

/**
 * A model call whose prompt is a registered version pinned by its content hash: the model-call activity reads the
 * system prompt and output schema from the registry (checking the hash), so the prompt is not written into the run's
 * history again with every call — it is there once, in the pin.
 */
export interface RegisteredModelCall extends Omit<ModelCallRequest, 'system' | 'output' | 'prompt'> {
  readonly prompt: PromptRef;
}

/** A registered prompt version as a run names it: by name, version and the content hash it pinned. */
export interface PromptRef {
  readonly name: string;
  readonly version: string;
  readonly hash: string;
}

/** What the model-call and cache activities accept: a request with its prompt inline, or one naming it by hash. */
export type ModelCallInput = ModelCallRequest | RegisteredModelCall;

/** The reply's text: as written, or the JSON of the parsed value it was left out for. */
export function replyText(reply: Pick<ModelCallResult, 'text' | 'parsed'>): string {
  return reply.text ?? JSON.stringify(reply.parsed);
}

/**
 * What the model-call activity returns into history: the reply without its text when the text is the parsed
 * value's JSON, which `replyText` gives back.
 */
export function withoutRedundantText<R extends ModelCallResult>(reply: R): R {
  if (reply.text === undefined || reply.parsed === null || reply.parsed === undefined || reply.text !== JSON.stringify(reply.parsed)) return reply;
  const { text: _text, ...rest } = reply;
  return rest as R;
}

/** True when the request names its prompt by content hash instead of carrying it. */
export function isRegisteredCall(req: ModelCallInput): req is RegisteredModelCall {
  return !('system' in req);
}

export interface TokenUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/**
 * What came back. `parsed` is the JSON value the model produced (or null with `parseError` when it produced no
 * JSON): validating it is the workflow's job, not the activity's, so a malformed reply is not an activity failure.
 */
export interface ModelCallResult {
  readonly model: ModelRef;
  /**
   * The reply as the model wrote it. Absent when it is exactly the JSON of `parsed` (a structured-output call), so
   * history does not hold the answer twice; `replyText` gives it either way.
   */
  readonly text?: string;
  readonly parsed: unknown;
  readonly parseError: string | null;
  readonly usage: TokenUsage;
  readonly stopReason: string | null;
  readonly latencyMs: number;
  readonly requestId: string | null;
  readonly prompt: { readonly name: string; readonly version: string };
  /** Which attempt of the model-call activity answered: 1, plus the transport retries Temporal made before it. */
  readonly attempt?: number;
  /** Set when the answer came from the response cache (`ModelCallRequest.cache.read`): usage is zero, nobody was asked. */
  readonly cached?: { readonly at: string };
}
