import { SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import type { EvidenceRecord } from '../contracts/evidence.js';
import type { ModelCallRequest } from '../contracts/model.js';
import type { ProviderResult } from './providers/adapter.js';

/**
 * Governor's activity-side spans. They go through the global `@opentelemetry/api`: with no tracer provider
 * registered (tracing off) every call here is a no-op on a non-recording span.
 */
const tracer = () => trace.getTracer('governor');

let traceContent = false;

/** Whether prompt and reply text go on spans (set once per process by `createTracing`). */
export function setTraceContent(on: boolean): void {
  traceContent = on;
}

/** Runs `fn` in a span that is active for everything it calls; the span records a thrown error and ends. */
export async function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Adds attributes to the span that is active here (the activity's own span, or one of ours). */
export function annotate(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}

/**
 * Prompt and reply of a model call on the activity's span, only where content capture is on, in the GenAI
 * conventions' shape (a JSON list of messages with parts).
 */
export function annotateModelContent(req: ModelCallRequest, result: ProviderResult): void {
  annotate({ 'gen_ai.response.id': result.requestId ?? '' });
  if (!traceContent) return;
  const parts = (content: string) => [{ type: 'text', content }];
  annotate({
    'gen_ai.system_instructions': JSON.stringify(parts(req.system)),
    'gen_ai.input.messages': JSON.stringify(req.messages.map((m) => ({ role: m.role, parts: parts(m.content) }))),
    'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: parts(result.text), finish_reason: result.stopReason ?? '' }]),
  });
}

/** What a tool span says about the evidence it ended with: never the arguments or the result. */
export function evidenceAttributes(evidence: EvidenceRecord): Attributes {
  return {
    'governor.evidence.id': evidence.evidenceId,
    'governor.evidence.status': evidence.status,
    'governor.evidence.deduplicated': evidence.deduplicated,
    'governor.permission.outcome': evidence.permission,
    'governor.permission.rule': evidence.policyRule,
    'governor.permission.policy_version': evidence.policyVersion,
    ...(evidence.approver ? { 'governor.permission.approver': evidence.approver } : {}),
  };
}
