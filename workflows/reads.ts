import { ActivityFailure, ApplicationFailure, isCancellation, proxyLocalActivities } from '@temporalio/workflow';
import { FailureType } from '../contracts/failures.js';
import type { ReadOutcome, ReadTogetherRequest } from '../contracts/reads.js';

/**
 * One read a run asks with others (`readTogether`): a read activity of the worker, its arguments, and what the run
 * makes of the outcome — the value, a fallback, or a failure — so a read keeps the handling it has when asked alone.
 */
export interface Read<T> {
  readonly activity: string;
  readonly args: readonly unknown[];
  readonly settle: (outcome: ReadOutcome) => T;
}

/** The value a read settles to. */
export type ReadValue<R> = R extends Read<infer T> ? T : never;

/** Attempts of the one local activity; every read is a millisecond query on the worker's own store. */
const READ_ATTEMPTS = 5;

const { readTogether: readAll } = proxyLocalActivities<{ readTogether(req: ReadTogetherRequest): Promise<ReadOutcome[]> }>({
  startToCloseTimeout: '5s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: READ_ATTEMPTS },
});

/** What an activity's promise resolves to. */
type Resolved<F> = F extends (...a: never[]) => Promise<infer T> ? T : never;

/**
 * A read of one of the worker's read activities (declared with `createGovernorWorker({ reads })`), typed by the
 * activities interface: `const read = readOf<MyActivities>(); read('loadCustomer', id)`. A failed read fails the
 * caller with the read's own error, as the activity would alone.
 */
export function readOf<A>() {
  return <K extends keyof A & string>(activity: K, ...args: A[K] extends (...a: infer P) => Promise<unknown> ? P : never): Read<Resolved<A[K]>> => ({
    activity,
    args,
    settle: (outcome) => {
      if (outcome.ok) return outcome.value as Resolved<A[K]>;
      throw ApplicationFailure.create({ type: outcome.error.type ?? FailureType.ReadFailed, message: `${activity}: ${outcome.error.message}`, nonRetryable: true });
    },
  });
}

/**
 * Asks several reads as one local activity: one task, one marker in history and one activation, where reads asked
 * one by one cost one each. The reads run together on the worker; while the local activity has attempts left, a read
 * that failed with a retryable error sends them all round again, and after that each read settles its own outcome.
 * When the local activity fails as a whole (its attempts spent on time-outs), every read settles that failure.
 */
export async function readTogether<R extends Readonly<Record<string, Read<unknown>>>>(reads: R): Promise<{ -readonly [K in keyof R]: ReadValue<R[K]> }> {
  const keys = Object.keys(reads);
  let outcomes: ReadOutcome[];
  try {
    outcomes = await readAll({ reads: keys.map((k) => ({ activity: reads[k]!.activity, args: [...reads[k]!.args] })), attempts: READ_ATTEMPTS });
  } catch (err) {
    // A cancelled run stops here, whatever its reads would fall back to.
    if (isCancellation(err)) throw err;
    const cause = err instanceof ActivityFailure ? err.cause : err;
    // The reads' own failures come back as outcomes; a non-retryable failure of the whole is the worker refusing the
    // request (a name that is not a read, no `readTogether` registered): a bug no read's fallback may hide.
    if (cause instanceof ApplicationFailure && cause.nonRetryable) throw err;
    const error = { message: (cause as Error | undefined)?.message ?? String(cause), type: cause instanceof ApplicationFailure ? (cause.type ?? null) : null, nonRetryable: true };
    outcomes = keys.map(() => ({ ok: false, error }));
  }
  if (outcomes.length !== keys.length) throw ApplicationFailure.nonRetryable(`readTogether answered ${outcomes.length} outcomes for ${keys.length} reads`, 'InternalInvariant');
  return Object.fromEntries(keys.map((k, i) => [k, reads[k]!.settle(outcomes[i]!)])) as { -readonly [K in keyof R]: ReadValue<R[K]> };
}
