import type { Duration } from '@temporalio/common';
import ms from 'ms';

/**
 * A Temporal duration (`'30s'`, `'24h'` or milliseconds) in milliseconds, parsed by the same `ms` release the SDK
 * uses, so a deadline Governor computes and a timer Temporal sets can never disagree about what `'1d'` means.
 */
export function durationMs(duration: Duration): number {
  if (typeof duration === 'number') return duration;
  const value = ms(duration);
  if (!Number.isFinite(value)) throw new TypeError(`not a duration: ${JSON.stringify(duration)}`);
  return value;
}

/** Workflow time plus `duration`, as an ISO string (the sandbox's `Date` is the time of the current workflow task). */
export function deadlineAfter(duration: Duration): string {
  return new Date(new Date().getTime() + durationMs(duration)).toISOString();
}
