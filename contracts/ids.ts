/**
 * Branded identifiers. Each is built by exactly one function so that a plain string can never be passed where an
 * id of a particular kind is expected.
 */
export type EventId = string & { readonly __brand: 'EventId' };
export type WorkflowId = string & { readonly __brand: 'WorkflowId' };
export type EvidenceId = string & { readonly __brand: 'EvidenceId' };
export type IdempotencyKey = string & { readonly __brand: 'IdempotencyKey' };
export type StepId = string & { readonly __brand: 'StepId' };

/** The event id as carried by a validated trigger event. */
export function eventId(raw: string): EventId {
  return raw as EventId;
}

/** A step id is stable across replays and retries: it names the step, not the attempt. */
export function stepId(name: string, ordinal = 1): StepId {
  return `${name}#${ordinal}` as StepId;
}

/** Every effect carries `workflowId/stepId`, so a retried activity presents the same key and the tool dedupes. */
export function idempotencyKey(workflowId: WorkflowId | string, step: StepId): IdempotencyKey {
  return `${workflowId}/${step}` as IdempotencyKey;
}

/** Evidence ids are minted by the evidence store from its own sequence; this only brands what it returns. */
export function evidenceId(raw: string): EvidenceId {
  return raw as EvidenceId;
}

/** The task queue workers poll and clients start on when none is named. */
export const DEFAULT_TASK_QUEUE = 'governor';
