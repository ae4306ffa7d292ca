/** The plain-Temporal baseline's one activity: the triage model call, made directly with the provider SDK. */
import type Anthropic from '@anthropic-ai/sdk';
import { classifierJsonSchema, renderClassifierMessages, supportTicketClassifier as spec } from '../../examples/support/prompts/support-ticket-classifier.js';

/** The parts of a `support_ticket.created` event the classifier prompt reads. */
export interface PlainTicket {
  readonly ticket: unknown;
  readonly customer: unknown;
}

export interface PlainActivities {
  classify(event: PlainTicket): Promise<unknown>;
  /** Does nothing: the empty local step of `plainClassifyWithLocalSteps`. */
  pass(step: string): Promise<string>;
}

/** The request the kit's triage step sends for this ticket, so both sides make the same call. */
export function classifierRequest(event: PlainTicket): Anthropic.MessageCreateParamsNonStreaming {
  return {
    model: spec.models.anthropic,
    max_tokens: spec.maxOutputTokens,
    system: spec.system,
    messages: renderClassifierMessages({ ticket: event.ticket as never, customer: event.customer as never, history: [] }),
    tools: [{ name: spec.output.name, description: spec.output.description, input_schema: classifierJsonSchema as Anthropic.Tool.InputSchema }],
    tool_choice: { type: 'tool', name: spec.output.name },
  };
}

export function plainActivities(anthropic: Anthropic): PlainActivities {
  return {
    async classify(event) {
      const reply = await anthropic.messages.create(classifierRequest(event));
      const call = reply.content.find((c) => c.type === 'tool_use');
      return call?.input ?? null;
    },
    async pass(step) {
      return step;
    },
  };
}
