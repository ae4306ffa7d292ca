import { ApplicationFailure, Context } from '@temporalio/activity';
import { retryableFailure, terminalFailure } from '../contracts/failures.js';
import { formatIssues, issuesFrom } from '../contracts/issues.js';
import { KIT_READS, ReadTogetherRequest, type ReadOutcome } from '../contracts/reads.js';

/** An activity as a worker registers it. */
type AnyActivity = (...args: never[]) => Promise<unknown>;

/** The error of a read that failed, as its outcome carries it. */
function failureOf(err: unknown): Extract<ReadOutcome, { ok: false }>['error'] {
  if (err instanceof ApplicationFailure) return { message: err.message, type: err.type ?? null, nonRetryable: err.nonRetryable === true };
  return { message: (err as Error)?.message ?? String(err), type: null, nonRetryable: false };
}

/**
 * The `readTogether` activity of a worker: runs several of the worker's own read activities at once, in this one
 * activity's context (each sees the calling run, as it would alone), and answers with each one's outcome. Only the
 * activities declared reads may be named (`KIT_READS` and the worker's `reads`): the reads are tried again together,
 * so nothing with an effect belongs here.
 *
 * Temporal has no batch of local activities; this is the smallest dispatcher that gives a run's opening reads one
 * task, one marker and one activation.
 */
export function readTogetherActivity(activities: Readonly<Record<string, unknown>>, declared: readonly string[] = []) {
  for (const name of declared) {
    if (typeof activities[name] !== 'function') throw new Error(`reads: ${name} is declared a read but no activity of that name is registered`);
  }
  const reads = new Set([...KIT_READS.filter((name) => typeof activities[name] === 'function'), ...declared]);
  return async function readTogether(input: unknown): Promise<ReadOutcome[]> {
    const parsed = ReadTogetherRequest.safeParse(input);
    if (!parsed.success) throw terminalFailure('InvalidConfig', `readTogether: ${formatIssues(issuesFrom(parsed.error))}`);
    const req = parsed.data;
    req.reads.forEach((r, i) => {
      if (!reads.has(r.activity)) {
        throw terminalFailure('InvalidConfig', `reads.${i}.activity: ${r.activity} is not a read this worker declares (${[...reads].join(', ')})`);
      }
    });
    // Each read is started in its own promise, so one that throws before it awaits anything is its own outcome too.
    const settled = await Promise.allSettled(req.reads.map((r) => Promise.resolve().then(() => (activities[r.activity] as AnyActivity)(...(r.args as never[])))));
    const outcomes: ReadOutcome[] = settled.map((s) => (s.status === 'fulfilled' ? { ok: true, value: s.value } : { ok: false, error: failureOf(s.reason) }));
    const retryable = outcomes.flatMap((o, i) => (!o.ok && !o.error.nonRetryable ? [`${req.reads[i]!.activity}: ${o.error.message}`] : []));
    // While attempts remain, one read that may succeed on a retry sends every read round again (each is a read, so
    // repeating the others costs a query and changes nothing); the last attempt answers with what each gave.
    if (retryable.length > 0 && Context.current().info.attempt < req.attempts) throw retryableFailure('ReadFailed', retryable.join('; '));
    return outcomes;
  };
}
