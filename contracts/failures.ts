import { ApplicationFailure } from '@temporalio/common';

/**
 * The failure table: one row per failure type, as data. Every retry and breaker decision in Governor derives from
 * these rows — which types an activity profile marks non-retryable, which failures count against a circuit
 * breaker's health, what a step does next — so there is one place to read and one place to change. DESIGN.md's
 * failure taxonomy is this table in prose.
 *
 * Columns:
 * - `retries`: a retry of the same call can succeed (Temporal retries it within the profile's bounded attempts).
 * - `health`: the failure says the dependency is unwell; it counts toward that dependency's circuit breaker.
 * - `next`: what the step does once the call has failed for good.
 */
export interface FailureRow {
  readonly retries: boolean;
  readonly health: boolean;
  readonly next: 'back_off' | 'retry' | 'next_model' | 'review' | 'human' | 'wait_for_probe' | 'fail_closed' | 'stop';
  readonly doc: string;
}

export const FAILURES = {
  RateLimited: { retries: true, health: true, next: 'back_off', doc: "429 from a provider; retried after the provider's retry-after, then the next model." },
  ModelOverloaded: { retries: true, health: true, next: 'next_model', doc: '529/503 or an overloaded provider; retried with backoff, then the next model.' },
  ModelServerError: { retries: true, health: true, next: 'next_model', doc: 'Other 5xx, or a body the SDK could not read; retried, then the next model.' },
  ModelTimeout: { retries: true, health: true, next: 'next_model', doc: 'The provider did not answer in time; retried, then the next model.' },
  ModelConnectionError: { retries: true, health: true, next: 'next_model', doc: 'The connection to the provider broke; retried, then the next model.' },
  ModelAuthFailed: { retries: false, health: false, next: 'next_model', doc: 'Bad or missing credentials: retrying cannot help.' },
  ModelBadRequest: { retries: false, health: false, next: 'next_model', doc: 'The request is wrong (400, 404 unknown model, 422): retrying cannot help.' },
  ModelRefused: { retries: false, health: false, next: 'review', doc: 'The model declined to answer (refusal, content policy).' },
  ProviderNotConfigured: { retries: false, health: false, next: 'next_model', doc: 'The provider is not registered on this worker (no key, unknown name).' },
  /**
   * A breaker is open on this worker. For a model, fall back at once (another model is waiting); for a tool, there
   * is no other tool, so the call waits for the half-open probe (`nextRetryDelay`) within its bounded attempts.
   */
  CircuitOpen: { retries: true, health: false, next: 'wait_for_probe', doc: 'A circuit breaker is open: models fall back at once, tools wait for the probe.' },
  /** Governor's own store (evidence, fences, cache) is unreachable: retried; never a tool's or a provider's ill health. */
  TokenRateLimited: { retries: true, health: false, next: 'back_off', doc: "The provider's shared token rate (all workers) is spent for now; retried when tokens refill, never counted against the provider." },
  SpendCeilingReached: { retries: false, health: false, next: 'stop', doc: 'The daily spend ceiling across every run is reached: no new model calls until it resets; the step stops with budget_exceeded.' },
  StoreUnavailable: { retries: true, health: false, next: 'retry', doc: "Governor's own database is unreachable; retried, never counted against a tool." },
  ReadFailed: { retries: true, health: false, next: 'retry', doc: "A read asked together with others failed: all are tried again together, then that read's own handling applies." },
  ToolArgumentsInvalid: { retries: false, health: false, next: 'review', doc: "A tool's arguments failed their schema: the tool never ran." },
  PermissionDenied: { retries: false, health: false, next: 'human', doc: 'The policy denied the call: recorded, escalated to a human.' },
  UnknownTool: { retries: false, health: false, next: 'human', doc: 'The tool is not in the registry of this worker.' },
  LeaseLost: { retries: false, health: false, next: 'human', doc: "A write carried a lease token older than the resource's current one." },
  LeaseTimeout: { retries: false, health: false, next: 'human', doc: "A write could not get its resource's lease in time: refused rather than interleaved." },
  ToolFailed: { retries: false, health: false, next: 'human', doc: 'A tool failed in a way no retry fixes (its own validation, a missing record).' },
  ToolUnavailable: { retries: true, health: true, next: 'retry', doc: "A tool's downstream system failed or timed out; retried with the same idempotency key." },
  HandoffUnverified: { retries: false, health: false, next: 'human', doc: 'A handoff between agents did not verify against the evidence store.' },
  IdempotencyConflict: { retries: false, health: false, next: 'fail_closed', doc: 'An idempotency key was presented again for a different tool or arguments.' },
  InvalidConfig: { retries: false, health: false, next: 'fail_closed', doc: "A run's configuration cannot work (an empty model chain, no Temporal client for leases)." },
} as const satisfies Record<string, FailureRow>;

export type FailureType = keyof typeof FAILURES;

/** The failure type names, as constants: `FailureType.RateLimited === 'RateLimited'`. */
export const FailureType = Object.fromEntries(Object.keys(FAILURES).map((k) => [k, k])) as { readonly [K in FailureType]: K };

/** The row of a type; unknown types (a bug, a foreign error) are treated as retryable ill health. */
export function failureRow(type: string | null | undefined): FailureRow {
  return (type && Object.prototype.hasOwnProperty.call(FAILURES, type) ? FAILURES[type as FailureType] : undefined) ?? UNKNOWN_FAILURE;
}

const UNKNOWN_FAILURE: FailureRow = { retries: true, health: true, next: 'retry', doc: 'Not classified: retried within bounds, counted as ill health.' };

/** What a kind of step may retry: model steps fall back instead of waiting on an open breaker. */
export type StepKind = 'model' | 'tool';

/** The failure types an activity profile of this kind lists as non-retryable (derived from the table). */
export function nonRetryableTypes(kind: StepKind): FailureType[] {
  return (Object.keys(FAILURES) as FailureType[]).filter((type) => {
    if (type === 'CircuitOpen') return kind === 'model';
    return !FAILURES[type].retries;
  });
}

/** True when a failure of this type counts toward its dependency's circuit breaker. Unclassified errors do. */
export function countsAgainstHealth(type: string | null | undefined): boolean {
  return failureRow(type).health;
}

/** Failures no retry can fix, thrown by activities: `nonRetryable` is set from the table, never by hand. */
export function terminalFailure(type: FailureType, message: string, details?: unknown[]): ApplicationFailure {
  if (FAILURES[type].retries) throw new Error(`${type} retries by the failure table; use retryableFailure`);
  return ApplicationFailure.create({ type, message, nonRetryable: true, details });
}

/** Failures a retry may fix, thrown by activities; `nextRetryDelay` (ms) overrides the profile's backoff once. */
export function retryableFailure(type: FailureType, message: string, options: { nextRetryDelay?: number; details?: unknown[]; cause?: Error } = {}): ApplicationFailure {
  if (!FAILURES[type].retries) throw new Error(`${type} does not retry by the failure table; use terminalFailure`);
  return ApplicationFailure.create({ type, message, nonRetryable: false, nextRetryDelay: options.nextRetryDelay, details: options.details, cause: options.cause });
}

/** Update rejections a decision gate raises; the client maps each to a typed answer for the reviewer. */
export const ReviewRejection = {
  InvalidDecision: 'InvalidDecision',
  NotAuthorised: 'NotAuthorised',
  AlreadyDecided: 'AlreadyDecided',
  NotAwaitingReview: 'NotAwaitingReview',
} as const;

export type ReviewRejection = (typeof ReviewRejection)[keyof typeof ReviewRejection];
