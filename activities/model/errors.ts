import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../contracts/failures';

/**
 * A provider's `retry-after` is honoured up to this bound: past it the activity's own timeouts and the run's wall
 * time budget would be meaningless, so a longer wait is capped rather than trusted.
 */
export const MAX_RETRY_AFTER_MS = 120_000;

type ErrorHeaders = { get(name: string): string | null } | undefined;

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

interface HttpErrorLike {
  status: number | undefined;
  headers: ErrorHeaders;
  message: string;
  requestId?: string | null;
}

function asHttpError(err: unknown): HttpErrorLike | undefined {
  if (err instanceof Anthropic.APIError || err instanceof OpenAI.APIError) {
    return { status: err.status, headers: err.headers, message: err.message, requestId: err.requestID ?? null };
  }
  return undefined;
}

/**
 * Maps a provider SDK error onto the failure table in DESIGN.md. SDK retries are off, so the returned failure's
 * retryability is the whole retry decision, made by Temporal's retry policy.
 */
export function classifyProviderError(err: unknown, provider: string): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof Anthropic.APIConnectionTimeoutError || err instanceof OpenAI.APIConnectionTimeoutError) {
    return ApplicationFailure.create({ type: FailureType.ModelTimeout, message: `${provider}: request timed out`, cause: err });
  }
  if (err instanceof Anthropic.APIConnectionError || err instanceof OpenAI.APIConnectionError) {
    return ApplicationFailure.create({
      type: FailureType.ModelConnectionError,
      message: `${provider}: connection failed: ${err.message}`,
      cause: err,
    });
  }
  const http = asHttpError(err);
  if (!http) {
    // Not an HTTP answer (a body the SDK could not read, for instance): retry, bounded by the activity profile.
    return ApplicationFailure.create({
      type: FailureType.ModelServerError,
      message: `${provider}: ${(err as Error)?.message ?? String(err)}`,
      cause: err instanceof Error ? err : undefined,
    });
  }
  const status = http.status ?? 0;
  const details = [{ provider, status, requestId: http.requestId ?? null }];
  const message = `${provider} answered ${status}: ${http.message}`;
  if (status === 429) {
    return ApplicationFailure.create({
      type: FailureType.RateLimited,
      message,
      details,
      nextRetryDelay: retryAfterMs(http.headers),
    });
  }
  if (status === 529 || status === 503) {
    return ApplicationFailure.create({ type: FailureType.ModelOverloaded, message, details, nextRetryDelay: retryAfterMs(http.headers) });
  }
  if (status === 408) return ApplicationFailure.create({ type: FailureType.ModelTimeout, message, details });
  if (status >= 500 || status === 409) return ApplicationFailure.create({ type: FailureType.ModelServerError, message, details });
  if (status === 401 || status === 403) {
    return ApplicationFailure.create({ type: FailureType.ModelAuthFailed, message, details, nonRetryable: true });
  }
  return ApplicationFailure.create({ type: FailureType.ModelBadRequest, message, details, nonRetryable: true });
}
