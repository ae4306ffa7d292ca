import { ApplicationFailure } from '@temporalio/common';
import { failureRow, FailureType } from '../../contracts/failures.js';

/**
 * Error classification shared by every provider adapter, written once. An adapter maps its own SDK's (or its own
 * `fetch`'s) errors onto the small shapes below; these functions decide which failure type an error is, and the
 * failure table (contracts/failures.ts) decides whether that type retries. SDK retries are off, so that is the whole
 * retry decision, made by Temporal's retry policy.
 */

/**
 * A provider's `retry-after` is honoured up to this bound: past it the activity's own timeouts and the run's wall
 * time budget would be meaningless, so a longer wait is capped rather than trusted.
 */
export const MAX_RETRY_AFTER_MS = 120_000;

export type ErrorHeaders = { get(name: string): string | null } | null | undefined;

/** Reads `retry-after-ms`, then `retry-after` as seconds or an HTTP date. */
export function retryAfterMs(headers: ErrorHeaders, now: number = Date.now()): number | undefined {
  const ms = headers?.get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return clamp(Number(ms));
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return clamp(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : clamp(date - now);
}

/** A zero or past retry-after gives no delay of its own: the retry policy's backoff applies instead. */
function clamp(ms: number): number | undefined {
  const rounded = Math.min(Math.round(ms), MAX_RETRY_AFTER_MS);
  return rounded > 0 ? rounded : undefined;
}

/**
 * A failure of `type`, retryable or not as the failure table's row for it says (contracts/failures.ts), never by
 * hand; what an adapter throws for a case the helpers below do not cover.
 */
export function providerFailure(
  type: FailureType,
  message: string,
  options: { readonly details?: unknown[]; readonly nextRetryDelay?: number; readonly cause?: Error } = {},
): ApplicationFailure {
  const retries = failureRow(type).retries;
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: !retries,
    details: options.details,
    // A delay only means something for a failure that is retried.
    nextRetryDelay: retries ? options.nextRetryDelay : undefined,
    cause: options.cause,
  });
}

/** An HTTP error answer from a provider, whatever client read it. */
export interface HttpErrorLike {
  readonly status: number | undefined;
  readonly headers?: ErrorHeaders;
  readonly message: string;
  readonly requestId?: string | null;
}

/** An HTTP error answer, classified by its status (429, 503/529, 408, other 5xx and 409, 401/403, other 4xx). */
export function classifyHttpError(provider: string, http: HttpErrorLike): ApplicationFailure {
  const status = http.status ?? 0;
  const details = [{ provider, status, requestId: http.requestId ?? null }];
  const message = `${provider} answered ${status}: ${http.message}`;
  if (status === 429) return providerFailure(FailureType.RateLimited, message, { details, nextRetryDelay: retryAfterMs(http.headers) });
  if (status === 529 || status === 503) {
    return providerFailure(FailureType.ModelOverloaded, message, { details, nextRetryDelay: retryAfterMs(http.headers) });
  }
  if (status === 408) return providerFailure(FailureType.ModelTimeout, message, { details });
  if (status >= 500 || status === 409) return providerFailure(FailureType.ModelServerError, message, { details });
  if (status === 401 || status === 403) return providerFailure(FailureType.ModelAuthFailed, message, { details });
  return providerFailure(FailureType.ModelBadRequest, message, { details });
}

/** The request got no answer in time (the client's own timeout): retryable. */
export function timeoutFailure(provider: string, cause?: Error): ApplicationFailure {
  return providerFailure(FailureType.ModelTimeout, `${provider}: request timed out`, { cause });
}

/** The connection could not be made or broke: retryable. */
export function connectionFailure(provider: string, cause: Error): ApplicationFailure {
  return providerFailure(FailureType.ModelConnectionError, `${provider}: connection failed: ${cause.message}`, { cause });
}

/**
 * Anything else: not an HTTP answer (a body the client could not read, for instance). Retried, bounded by the
 * activity profile; an `ApplicationFailure` (a refusal the adapter raised itself) passes through unchanged.
 */
export function unclassifiedFailure(provider: string, err: unknown): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  return providerFailure(FailureType.ModelServerError, `${provider}: ${(err as Error)?.message ?? String(err)}`, {
    cause: err instanceof Error ? err : undefined,
  });
}

/** The model declined to answer (refusal, content policy): `ModelRefused`, which no retry can change. */
export function modelRefused(provider: string, detail: string): ApplicationFailure {
  return providerFailure(FailureType.ModelRefused, `${provider} refused to answer: ${detail}`);
}

/** Constructors usable with `instanceof`; the SDKs' error classes match this shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ErrorClass<T> = abstract new (...args: any[]) => T;

/**
 * The error classes of a Stainless-generated SDK (`@anthropic-ai/sdk`, `openai` and the SDKs built the same way):
 * pass the SDK's client class itself, which carries them as static members.
 */
export interface SdkErrorClasses {
  readonly APIError: ErrorClass<Error & { readonly status: number | undefined; readonly headers: ErrorHeaders; readonly requestID?: string | null }>;
  readonly APIConnectionError: ErrorClass<Error>;
  readonly APIConnectionTimeoutError: ErrorClass<Error>;
}

/** Maps an SDK's error onto the failure table: timeout, connection, HTTP status, else retryable unclassified. */
export function classifySdkError(provider: string, err: unknown, sdk: SdkErrorClasses): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  // Order matters: a timeout is a connection error, and a connection error is an APIError without a status.
  if (err instanceof sdk.APIConnectionTimeoutError) return timeoutFailure(provider, err);
  if (err instanceof sdk.APIConnectionError) return connectionFailure(provider, err);
  if (err instanceof sdk.APIError) {
    return classifyHttpError(provider, { status: err.status, headers: err.headers, message: err.message, requestId: err.requestID ?? null });
  }
  return unclassifiedFailure(provider, err);
}
