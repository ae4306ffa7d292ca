import { context, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { ModelCallResult, ModelRef } from '../contracts/model.js';

/**
 * Governor's workflow-side spans. Inside the sandbox `@opentelemetry/api` reaches the tracer Temporal's OpenTelemetry
 * interceptors install (span ids from the workflow's seeded random, times from workflow time, exported through a
 * sink that never runs during replay). A bundle without the interceptors gets the API's no-op tracer: nothing is
 * recorded and nothing changes in history either way.
 */
const tracer = () => trace.getTracer('governor');

/**
 * One span per model call, named and tagged by the OpenTelemetry GenAI conventions (`chat {model}`,
 * `gen_ai.*`) plus what only the workflow knows: the prompt version, the step, the cost charged to the ledger and
 * what validation said. The model-call activity's spans are its children. Never prompt or reply text: that is the
 * activity's to add, and only where content capture is on.
 */
export const modelCallSpan = {
  start(step: string, prompt: { name: string; version: string; temperature: number; maxOutputTokens: number }, model: ModelRef): Span {
    return tracer().startSpan(`chat ${model.model}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': model.provider,
        'gen_ai.request.model': model.model,
        'gen_ai.request.temperature': prompt.temperature,
        'gen_ai.request.max_tokens': prompt.maxOutputTokens,
        'gen_ai.prompt.name': prompt.name,
        'governor.prompt.version': `${prompt.name}@${prompt.version}`,
        'governor.step': step,
      },
    });
  },

  /** Runs the call with the span active, so the activity it schedules is traced as its child. */
  around<T>(span: Span, fn: () => Promise<T>): Promise<T> {
    return context.with(trace.setSpan(context.active(), span), fn);
  },

  answered(span: Span, reply: ModelCallResult, usd: number, validation: { valid: boolean; fields: readonly string[] }): void {
    span.setAttributes({
      'gen_ai.response.model': reply.model.model,
      'gen_ai.usage.input_tokens': reply.usage.inputTokens,
      'gen_ai.usage.output_tokens': reply.usage.outputTokens,
      'gen_ai.response.finish_reasons': [reply.stopReason ?? 'unknown'],
      'governor.cost_usd': usd,
      'governor.attempt': reply.attempt ?? 1,
      'governor.latency_ms': reply.latencyMs,
      'governor.validation.valid': validation.valid,
      'governor.validation.issues': validation.fields.length,
      // Which fields failed, never the values: a value may be the model repeating the customer's words.
      'governor.validation.fields': [...new Set(validation.fields)],
    });
    span.end();
  },

  /** Answered from the response cache by the call itself: no provider was asked. */
  cached(span: Span, at: string): void {
    span.setAttributes({ 'governor.cache.hit': true, 'governor.cache.cached_at': at });
    span.end();
  },

  failed(span: Span, failureType: string): void {
    span.setAttribute('error.type', failureType);
    span.setStatus({ code: SpanStatusCode.ERROR, message: failureType });
    span.end();
  },
};
