/**
 * Failure types: the one place their strings live. Activities throw `ApplicationFailure.create({ type })` with one
 * of these; workflows branch on the type, never on message text. See the failure table in DESIGN.md.
 */
export const FailureType = {
  /** 429 from a provider; retried after the provider's `retry-after`. */
  RateLimited: 'RateLimited',
  /** 529/503, or a provider saying it is overloaded; retried with backoff. */
  ModelOverloaded: 'ModelOverloaded',
  /** Other 5xx from a provider; retried with backoff. */
  ModelServerError: 'ModelServerError',
  /** The provider did not answer in time, or the connection broke; retried. */
  ModelTimeout: 'ModelTimeout',
  ModelConnectionError: 'ModelConnectionError',
  /** Bad or missing credentials: retrying cannot help. */
  ModelAuthFailed: 'ModelAuthFailed',
  /** The request itself is wrong (400, 404 unknown model, 422): retrying cannot help. */
  ModelBadRequest: 'ModelBadRequest',
  /** The model declined to answer (refusal / content policy). */
  ModelRefused: 'ModelRefused',
  /** The configured provider is not available on this worker (no key, unknown name). */
  ProviderNotConfigured: 'ProviderNotConfigured',
  /** The provider's (or tool's) circuit breaker is open on this worker: fail fast, fall back without waiting. */
  CircuitOpen: 'CircuitOpen',
  /** A tool's arguments failed their schema: the tool never ran. */
  ToolArgumentsInvalid: 'ToolArgumentsInvalid',
  /** The permission policy denied the call: never retried, recorded, escalated to a human. */
  PermissionDenied: 'PermissionDenied',
  /** The tool is not in the registry (or not on this worker). */
  UnknownTool: 'UnknownTool',
  /** A write carried a lease token older than the resource's current one: another owner holds it now. */
  LeaseLost: 'LeaseLost',
  /** A tool failed in a way no retry can fix (its own validation, a missing record). */
  ToolFailed: 'ToolFailed',
  /** A handoff between agents did not verify against the evidence store. */
  HandoffUnverified: 'HandoffUnverified',
  /** An idempotency key was presented again for a different tool or arguments. */
  IdempotencyConflict: 'IdempotencyConflict',
  /** A write could not get its resource's lease in time: refused rather than interleaved. */
  LeaseTimeout: 'LeaseTimeout',
  /** A run's configuration cannot work (an empty model chain, a worker without a Temporal client for leases). */
  InvalidConfig: 'InvalidConfig',
} as const;

export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** Failures that no retry can fix; listed in the model activity profile as non-retryable. */
export const NON_RETRYABLE_MODEL_FAILURES: readonly FailureType[] = [
  FailureType.ModelAuthFailed,
  FailureType.ModelBadRequest,
  FailureType.ModelRefused,
  FailureType.ProviderNotConfigured,
];

/** Update rejections the review gate raises; the client maps each to a typed answer for the reviewer. */
export const ReviewRejection = {
  InvalidDecision: 'InvalidDecision',
  NotAuthorised: 'NotAuthorised',
  AlreadyDecided: 'AlreadyDecided',
  NotAwaitingReview: 'NotAwaitingReview',
} as const;

export type ReviewRejection = (typeof ReviewRejection)[keyof typeof ReviewRejection];
