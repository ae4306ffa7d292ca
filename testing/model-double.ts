import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tokenizerCountRequest } from '../activities/tokens.js';

/**
 * The model double: a local HTTP server that speaks the Anthropic Messages API and the OpenAI Chat Completions API
 * closely enough that the real `@anthropic-ai/sdk` and `openai` clients parse every reply and every error. Tests
 * script it (a reply queue, rules matching the request, a fallback responder), inject faults, and read back every
 * request it received.
 */

/** What the double answers. `delayMs` holds the reply back, as a slow provider would. */
export type DoubleReply =
  /** Structured output: an Anthropic tool_use block (or text when no tool was offered) / OpenAI JSON content. */
  | { readonly kind: 'json'; readonly value: unknown; readonly delayMs?: number }
  /** Plain text as the model's answer: malformed JSON, JSON in a code fence, prose. */
  | { readonly kind: 'text'; readonly text: string; readonly delayMs?: number }
  /** The model declines (Anthropic stop_reason "refusal", OpenAI message.refusal). */
  | { readonly kind: 'refusal'; readonly text?: string; readonly delayMs?: number }
  /** An HTTP error in the provider's own error shape; `retryAfter` in seconds sets the retry-after header. */
  | { readonly kind: 'error'; readonly status: number; readonly retryAfter?: number; readonly message?: string; readonly delayMs?: number }
  /** Never answers: the connection stays open until the client gives up or the double closes. */
  | { readonly kind: 'hang' }
  /** HTTP 200 whose body is not JSON at all. */
  | { readonly kind: 'garbage'; readonly delayMs?: number };

export type Provider = 'anthropic' | 'openai';

export interface RecordedRequest {
  readonly seq: number;
  /** Epoch milliseconds when the request arrived. */
  readonly at: number;
  readonly provider: Provider;
  readonly path: string;
  readonly model: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Record<string, unknown>;
  /** Every message's text, system prompt first: what rules usually match on. */
  readonly text: string;
  /** The structured-output name the request asked for (tool name or json_schema name), if any. */
  readonly outputName: string | null;
  reply?: DoubleReply['kind'];
}

export type Responder = (req: RecordedRequest) => DoubleReply | undefined;

interface Rule {
  readonly match: (req: RecordedRequest) => boolean;
  readonly respond: Responder;
  remaining: number;
}

export interface ModelDoubleOptions {
  /** Answers requests that no queued reply or rule took. Without one, such a request gets a loud 500. */
  readonly fallback?: Responder;
  /** Added to every reply (benchmarks fix the provider's latency this way). */
  readonly latencyMs?: number;
}

const ANTHROPIC_ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  503: 'overloaded_error',
  529: 'overloaded_error',
};

const OPENAI_ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'invalid_request_error',
  403: 'permission_denied',
  404: 'invalid_request_error',
  429: 'rate_limit_exceeded',
  500: 'server_error',
  503: 'server_error',
};

function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part) => (typeof part === 'object' && part && 'text' in part ? String(part.text) : '')).join('');
  }
  return '';
}

export class ModelDouble {
  readonly requests: RecordedRequest[] = [];
  private readonly queue: DoubleReply[] = [];
  private rules: Rule[] = [];
  private fallback: Responder | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly latencyMs: number;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    options: ModelDoubleOptions,
  ) {
    this.fallback = options.fallback;
    this.latencyMs = options.latencyMs ?? 0;
  }

  /** Starts on loopback on a free port. */
  static async start(options: ModelDoubleOptions = {}): Promise<ModelDouble> {
    // The request handler needs the instance and the instance needs the listening server: bind late.
    const holder: { double?: ModelDouble } = {};
    const server = createServer((req, res) => {
      void holder.double!.handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const double = new ModelDouble(server, `http://127.0.0.1:${port}`, options);
    holder.double = double;
    server.on('connection', (socket) => {
      double.sockets.add(socket);
      socket.on('close', () => double.sockets.delete(socket));
    });
    return double;
  }

  /** Base URL for `ANTHROPIC_BASE_URL` / the Anthropic SDK. */
  get anthropicBaseURL(): string {
    return this.url;
  }

  /** Base URL for `OPENAI_BASE_URL` / the OpenAI SDK (which appends paths to `/v1`). */
  get openaiBaseURL(): string {
    return `${this.url}/v1`;
  }

  /** Queues replies, consumed in order by the next requests, before any rule. */
  enqueue(...replies: DoubleReply[]): this {
    this.queue.push(...replies);
    return this;
  }

  /** Answers requests that match, `times` times (default: always), after the queue is empty. */
  when(match: (req: RecordedRequest) => boolean, reply: DoubleReply | Responder, times = Infinity): this {
    this.rules.push({ match, respond: typeof reply === 'function' ? reply : () => reply, remaining: times });
    return this;
  }

  setFallback(responder: Responder | undefined): this {
    this.fallback = responder;
    return this;
  }

  /** Forgets the queue, rules and recorded requests (the fallback stays). */
  reset(): this {
    this.queue.length = 0;
    this.rules = [];
    this.requests.length = 0;
    return this;
  }

  /** Requests for one provider or one structured-output name. */
  count(filter: { provider?: Provider; outputName?: string } = {}): number {
    return this.requests.filter(
      (r) => (!filter.provider || r.provider === filter.provider) && (!filter.outputName || r.outputName === filter.outputName),
    ).length;
  }

  get pendingReplies(): number {
    return this.queue.length;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private choose(req: RecordedRequest): DoubleReply | undefined {
    const queued = this.queue.shift();
    if (queued) return queued;
    for (const rule of this.rules) {
      if (rule.remaining > 0 && rule.match(req)) {
        const reply = rule.respond(req);
        if (reply) {
          rule.remaining--;
          return reply;
        }
      }
    }
    return this.fallback?.(req);
  }

  /**
   * Anthropic's count_tokens endpoint: the double counts with a real BPE tokenizer (it cannot know Anthropic's own),
   * so a counted budget behaves as it would against the provider, within the tokenizers' difference.
   */
  private countTokens(req: IncomingMessage, raw: Buffer, res: ServerResponse): void {
    const authError = this.checkAuth('anthropic', req);
    if (authError) return this.sendError(res, 'anthropic', authError);
    let body: { system?: string; messages?: Array<{ role: 'user' | 'assistant'; content: string }> };
    try {
      body = JSON.parse(raw.toString('utf8')) as typeof body;
    } catch {
      return this.sendError(res, 'anthropic', { kind: 'error', status: 400, message: 'request body is not JSON' });
    }
    this.countRequests += 1;
    const tokens = tokenizerCountRequest({ ...(typeof body.system === 'string' ? { system: body.system } : {}), messages: (body.messages ?? []).map((m) => ({ role: m.role, content: typeof m.content === 'string' ? m.content : JSON.stringify(m.content) })) });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ input_tokens: tokens }));
  }

  /** Requests answered by the count_tokens endpoint. */
  countRequests = 0;

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'POST' && path === '/v1/messages/count_tokens') return this.countTokens(req, Buffer.concat(chunks), res);
    const provider: Provider | null = path === '/v1/messages' ? 'anthropic' : path === '/v1/chat/completions' ? 'openai' : null;
    if (req.method !== 'POST' || provider === null) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { type: 'not_found_error', message: `model double: no route ${req.method} ${path}` } }));
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      this.sendError(res, provider, { kind: 'error', status: 400, message: 'request body is not JSON' });
      return;
    }
    const recorded = this.record(provider, path, req, body);
    const authError = this.checkAuth(provider, req);
    if (authError) {
      recorded.reply = 'error';
      this.sendError(res, provider, authError);
      return;
    }
    const reply: DoubleReply = this.choose(recorded) ?? {
      kind: 'error',
      status: 500,
      message: `model double: no scripted reply left for request #${recorded.seq} (${provider}, ${recorded.outputName ?? 'no output schema'})`,
    };
    recorded.reply = reply.kind;
    if (reply.kind === 'hang') return; // held open until the client times out or the double closes
    const delay = (reply.delayMs ?? 0) + this.latencyMs;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (res.destroyed) return;
    if (reply.kind === 'error') return this.sendError(res, provider, reply);
    if (reply.kind === 'garbage') {
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': `req_${randomUUID()}`, 'x-request-id': `req_${randomUUID()}` });
      res.end('<html>502 Bad Gateway</html>');
      return;
    }
    const payload = provider === 'anthropic' ? this.anthropicReply(recorded, reply) : this.openaiReply(recorded, reply);
    res.writeHead(200, { 'content-type': 'application/json', 'request-id': `req_${randomUUID()}`, 'x-request-id': `req_${randomUUID()}` });
    res.end(JSON.stringify(payload));
  }

  private record(provider: Provider, path: string, req: IncomingMessage, body: Record<string, unknown>): RecordedRequest {
    const messages = Array.isArray(body.messages) ? (body.messages as Array<{ content?: unknown }>) : [];
    const system = typeof body.system === 'string' ? body.system : contentText(body.system);
    const text = [system, ...messages.map((m) => contentText(m.content))].filter(Boolean).join('\n');
    let outputName: string | null = null;
    if (provider === 'anthropic' && Array.isArray(body.tools) && body.tools.length > 0) {
      const choice = body.tool_choice as { name?: string } | undefined;
      outputName = choice?.name ?? (body.tools[0] as { name: string }).name;
    }
    if (provider === 'openai') {
      const format = body.response_format as { json_schema?: { name?: string } } | undefined;
      outputName = format?.json_schema?.name ?? null;
    }
    const recorded: RecordedRequest = {
      seq: this.requests.length + 1,
      at: Date.now(),
      provider,
      path,
      model: String(body.model ?? ''),
      headers: req.headers,
      body,
      text,
      outputName,
    };
    this.requests.push(recorded);
    return recorded;
  }

  private checkAuth(provider: Provider, req: IncomingMessage): Extract<DoubleReply, { kind: 'error' }> | undefined {
    // Anthropic clients send x-api-key, or a bearer token depending on SDK version and credential type.
    const bearer = /^Bearer \S+/.test(req.headers.authorization ?? '');
    const ok = provider === 'anthropic' ? Boolean(req.headers['x-api-key']) || bearer : bearer;
    return ok ? undefined : { kind: 'error', status: 401, message: 'model double: missing API key' };
  }

  private sendError(res: ServerResponse, provider: Provider, reply: Extract<DoubleReply, { kind: 'error' }>): void {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'request-id': `req_${randomUUID()}`, 'x-request-id': `req_${randomUUID()}` };
    if (reply.retryAfter !== undefined) headers['retry-after'] = String(reply.retryAfter);
    const message = reply.message ?? `model double: injected ${reply.status}`;
    const body =
      provider === 'anthropic'
        ? { type: 'error', error: { type: ANTHROPIC_ERROR_TYPES[reply.status] ?? 'api_error', message } }
        : { error: { message, type: OPENAI_ERROR_TYPES[reply.status] ?? 'server_error', param: null, code: reply.status === 429 ? 'rate_limit_exceeded' : null } };
    res.writeHead(reply.status, headers);
    res.end(JSON.stringify(body));
  }

  private anthropicReply(req: RecordedRequest, reply: Exclude<DoubleReply, { kind: 'error' | 'hang' | 'garbage' }>) {
    const inputTokens = estimateTokens(req.text);
    let content: unknown[];
    let stopReason: string;
    if (reply.kind === 'json' && req.outputName) {
      content = [{ type: 'tool_use', id: `toolu_${randomUUID().replace(/-/g, '').slice(0, 24)}`, name: req.outputName, input: reply.value }];
      stopReason = 'tool_use';
    } else if (reply.kind === 'refusal') {
      content = reply.text ? [{ type: 'text', text: reply.text, citations: null }] : [];
      stopReason = 'refusal';
    } else {
      const text = reply.kind === 'json' ? JSON.stringify(reply.value) : reply.text;
      content = [{ type: 'text', text, citations: null }];
      stopReason = 'end_turn';
    }
    let outputText = JSON.stringify(content);
    // As a provider does: an answer longer than the request's max_tokens is cut there, mid-JSON, and says so.
    const maxTokens = typeof req.body.max_tokens === 'number' ? req.body.max_tokens : Infinity;
    if (estimateTokens(outputText) > maxTokens && reply.kind !== 'refusal') {
      const full = reply.kind === 'json' ? JSON.stringify(reply.value) : reply.text;
      content = [{ type: 'text', text: full.slice(0, maxTokens * 4), citations: null }];
      stopReason = 'max_tokens';
      outputText = JSON.stringify(content);
    }
    return {
      id: `msg_${randomUUID().replace(/-/g, '').slice(0, 24)}`,
      type: 'message',
      role: 'assistant',
      model: req.model,
      content,
      stop_reason: stopReason,
      stop_sequence: null,
      usage: { input_tokens: inputTokens, output_tokens: estimateTokens(outputText), cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    };
  }

  private openaiReply(req: RecordedRequest, reply: Exclude<DoubleReply, { kind: 'error' | 'hang' | 'garbage' }>) {
    const promptTokens = estimateTokens(req.text);
    const message =
      reply.kind === 'refusal'
        ? { role: 'assistant', content: null, refusal: reply.text ?? "I'm sorry, I can't help with that.", annotations: [] }
        : { role: 'assistant', content: reply.kind === 'json' ? JSON.stringify(reply.value) : reply.text, refusal: null, annotations: [] };
    let completionTokens = estimateTokens(JSON.stringify(message));
    let finishReason = 'stop';
    const limit = req.body.max_completion_tokens ?? req.body.max_tokens;
    if (typeof limit === 'number' && completionTokens > limit && typeof message.content === 'string') {
      message.content = message.content.slice(0, limit * 4);
      completionTokens = limit;
      finishReason = 'length';
    }
    return {
      id: `chatcmpl-${randomUUID().replace(/-/g, '').slice(0, 24)}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: req.model,
      choices: [{ index: 0, message, finish_reason: finishReason, logprobs: null }],
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
      system_fingerprint: 'fp_model_double',
    };
  }
}
