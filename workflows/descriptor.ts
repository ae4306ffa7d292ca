import type { QueryDefinition, UpdateDefinition } from '@temporalio/common';
import type { z } from 'zod';
import type { AnySearchAttributeKey } from './search-attributes.js';

/**
 * A governed workflow, described once: the client's start/state/pending/decide, the CLI and the review queue are
 * all driven from this object, so adding a workflow touches no list anywhere else. Sandbox-safe (pure data and
 * message definitions): the workflow, the client and the CLI import the same descriptor.
 */
export interface WorkflowDescriptor<Trigger = unknown, Config = unknown, State = unknown, Result = unknown> {
  /** The workflow function's name, as exported from the worker's workflow bundle. */
  readonly name: string;
  /** One line for `governor workflows` and the CLI's help. */
  readonly description: string;
  /** The trigger contract: the `event` field's value and the zod schema of the whole event. */
  readonly trigger: { readonly eventType: string | null; readonly schema: z.ZodType<Trigger> };
  /** Per-run settings, resolved and validated by the client at start and recorded in the run's input. */
  readonly config: z.ZodType<Config, unknown>;
  /** The workflow id, derived from the event: a duplicate event addresses the run the first one started. */
  workflowId(event: Trigger): string;
  /** Builds the workflow's single argument from the validated event and config. */
  input(event: Trigger, config: Config): unknown;
  /** The `state` query: a snapshot of phase, steps, pending decisions, budgets. */
  readonly state: QueryDefinition<State>;
  /** Phases in which the run waits for a person (listed by `pending`). */
  readonly waitingPhases: readonly string[];
  /** Decisions people can send, by verb (`review`, `approve-action`, `resolve`): each an update with a validator. */
  readonly decisions: Readonly<Record<string, DecisionDescriptor>>;
  /** Extra search attributes this workflow sets (shown by `pending`, registered with the server). */
  readonly searchAttributes?: readonly AnySearchAttributeKey[];
  /** Lines for `governor status`, from the state snapshot; the CLI prints JSON when absent. */
  describe?(state: State): string[];
  /** The type of `result()`, for typed clients; never read at run time. */
  readonly _result?: Result;
}

export interface DecisionDescriptor<Payload = unknown, Answer = unknown> {
  readonly update: UpdateDefinition<Answer, [Payload]>;
  /** The payload's schema: a client refuses an invalid decision before sending it. */
  readonly schema: z.ZodType<Payload, unknown>;
  readonly description: string;
}

/** Identity with type inference: `export const triage = defineWorkflow({ ... })`. */
export function defineWorkflow<Trigger, Config, State, Result = unknown>(
  descriptor: WorkflowDescriptor<Trigger, Config, State, Result>,
): WorkflowDescriptor<Trigger, Config, State, Result> {
  return descriptor;
}

/** Identity with type inference for one decision of a descriptor. */
export function defineDecision<Payload, Answer>(decision: DecisionDescriptor<Payload, Answer>): DecisionDescriptor<Payload, Answer> {
  return decision;
}
