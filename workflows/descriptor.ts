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
  /**
   * Settings the client fills in when the caller leaves them out, from the deployment's model choice (for example
   * the prompt's default model for the chosen provider). The caller's own config wins, key by key.
   */
  defaultConfig?(model: ModelChoice): Record<string, unknown>;
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
  /**
   * Temporal's task-queue priority for this workflow's runs and their activities: 1 runs first, 5 last (default 3).
   * Interactive work (a ticket someone waits on) ahead of batch work (documents, evals) on the same workers.
   */
  readonly priority?: 1 | 2 | 3 | 4 | 5;
  /** Extra search attributes this workflow sets (shown by `pending`, registered with the server). */
  readonly searchAttributes?: readonly AnySearchAttributeKey[];
  /** Lines for `governor status`, from the state snapshot; the CLI prints JSON when absent. */
  describe?(state: State): string[];
  /** What a reviewer console shows of a run and the one-click decisions it offers; without it the console lists the run only. */
  readonly review?: ReviewView<State>;
  /** The type of `result()`, for typed clients; never read at run time. */
  readonly _result?: Result;
}

/** The provider (and, when named, the model) a deployment runs on; see `modelChoiceFromEnv` in `governor/client`. */
export interface ModelChoice {
  readonly provider: string;
  /** Null: the prompt's default model for the provider. */
  readonly model: string | null;
}

export interface DecisionDescriptor<Payload = unknown, Answer = unknown> {
  readonly update: UpdateDefinition<Answer, [Payload]>;
  /** The payload's schema: a client refuses an invalid decision before sending it. */
  readonly schema: z.ZodType<Payload, unknown>;
  readonly description: string;
  /**
   * For a decision sent to a run that has closed: who decided it, from the run's final state (`already decided
   * (approve) by usr_7`), or null when nobody did. Without it the answer is "the run has completed".
   */
  readonly decidedIn?: (state: never) => string | null;
}

/**
 * A run as a reviewer sees it, read from its `state` query: what waits for a person, and the run's detail. Pure
 * functions of the state, run by the console (never in the workflow), so a workflow describes its own review once.
 */
export interface ReviewView<State = unknown> {
  /** Every decision waiting for a person now (a review, a held action, a task), with the choices the console offers. */
  waiting(state: State): WaitingDecision[];
  /** The run's detail for the console: the model's output, its issues, confidence, prompt, trail, cost, evidence. */
  detail(state: State): RunDetail;
  /** The trigger event, from the run's argument (the console shows it redacted by its redaction policy). */
  trigger?(input: never): unknown;
  /**
   * Grading a sampled run after the fact: the fields a grader may correct in the run's output, and the corrected
   * output they make. Without it a grader can only say correct or incorrect.
   */
  readonly grading?: {
    fields(output: never): ChoiceField[];
    corrected(fields: Readonly<Record<string, string>>): unknown;
  };
}

/** What a decision is about: a model's answer to review, a held tool action to approve, a task a run escalated. */
export type WaitingKind = 'review' | 'approval' | 'task';

export interface WaitingDecision {
  /** The descriptor's decision verb the choices send (`review`, `approve-action`, `resolve`). */
  readonly verb: string;
  /** Which decision of the run this is (a held action's step id; `review` for a run's single review). */
  readonly key: string;
  readonly kind: WaitingKind;
  /** One line: what the person decides on. */
  readonly title: string;
  /** Why it waits (a review reason, the policy rule that held an action). */
  readonly reason: string;
  /** Who may decide it; the run refuses anyone else. */
  readonly approvers: readonly string[];
  /** ISO time the wait ends. */
  readonly deadline: string;
  /** What happens at the deadline without a decision (the run's escalation), shown in the queue. */
  readonly atDeadline: string;
  /** Reminders the run sent before the deadline (ISO times). */
  readonly reminded?: readonly string[];
  readonly choices: readonly DecisionChoice[];
}

/** A field a person edits when correcting (a category, an urgency): one of `options`. */
export interface ChoiceField {
  readonly name: string;
  readonly label: string;
  readonly options: readonly string[];
  readonly value: string | null;
}

/** One button of a waiting decision; its payload goes through the decision's update, validated by its schema. */
export interface DecisionChoice {
  /** `approve`, `reject`, `correct`, `resolve`: the console's keyboard shortcuts use the first letter. */
  readonly id: string;
  readonly label: string;
  /** Fields the person edits (a correction); the payload receives their values. */
  readonly fields?: readonly ChoiceField[];
  /** Builds the decision's payload for the signed-in person (never a reviewer id from the page). */
  payload(input: { readonly reviewerId: string; readonly note?: string; readonly fields: Readonly<Record<string, string>> }): unknown;
}

export interface RunDetail {
  /** The model's (validated or last) answer, as the person judges it; null when it gave none. */
  readonly output: unknown;
  /** The validation issues of the model's answers, in order. */
  readonly issues: readonly string[];
  readonly confidence: number | null;
  /** `name@version` of the prompt the run pinned. */
  readonly promptVersion: string | null;
  readonly modelTrail: ReadonlyArray<{ readonly model: string; readonly provider: string; readonly event: string; readonly detail: string }>;
  readonly costUsd: number;
  readonly evidenceIds: readonly string[];
  /** Labels the queue shows and filters on (a category, an urgency), by name. */
  readonly labels: Readonly<Record<string, string | null>>;
  /** What a person already decided, when one did. */
  readonly decided: { readonly by: string; readonly action: string; readonly note?: string } | null;
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

/**
 * Any descriptor, whatever its types: what a list of different workflows (a client's, a CLI's) holds. The type
 * parameters are erased on purpose: each descriptor checks its own payloads with its zod schemas at run time.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a heterogeneous list; zod checks each at run time
export type AnyWorkflowDescriptor = WorkflowDescriptor<any, any, any, any>;
