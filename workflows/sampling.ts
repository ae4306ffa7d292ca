import { log, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { routeForReview, type ReviewSampling, type SamplingRecord } from '../contracts/review.js';
import type { CorrectionVerdict, GradeVerdict } from '../contracts/review.js';

/**
 * Review-store writes are millisecond inserts on the worker's own store: local activities, recorded once as markers.
 * Few, short attempts: they are bookkeeping beside the run, so a store that cannot answer in about ten seconds
 * costs the record, never the run.
 */
const reviewStore = proxyLocalActivities<Activities>({
  startToCloseTimeout: '5s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '2s', maximumAttempts: 3 },
});

/** Routes this run's output under the sampling policy, keyed by the workflow id (stable for the run's event). */
export function routeThisRun(policy: ReviewSampling, output: Record<string, unknown> | null): SamplingRecord {
  return routeForReview(policy, { runKey: workflowInfo().workflowId, output });
}

/**
 * Queues this auto-applied run for grading (`grading_queue`). Never blocks or fails the run: grading happens after
 * the fact, so a store that cannot take the row is logged and the run goes on; true only when the row was queued.
 */
export async function queueForGrading(item: { output: unknown; input?: unknown; promptVersion: string; sampling: SamplingRecord }): Promise<boolean> {
  try {
    await reviewStore.queueForGrading({ output: item.output, input: item.input, promptVersion: item.promptVersion, draw: item.sampling.draw, rate: item.sampling.rate });
    return true;
  } catch (err) {
    log.warn('could not queue the run for grading; it stays applied, ungraded', { error: (err as Error).message });
    return false;
  }
}

/** A person's verdict on this run, in the structured correction form. */
export interface ReviewRecordRequest {
  readonly kind: 'correction' | 'grade';
  readonly verdict: CorrectionVerdict | GradeVerdict;
  /** What the model said. */
  readonly original: unknown;
  /** What the person set instead (null: nothing, e.g. approved or rejected). */
  readonly corrected?: unknown;
  /** What the model was given, so the record is a regression case on its own. */
  readonly input?: unknown;
  readonly reason?: string | null;
  readonly reviewer: string;
  readonly promptVersion: string;
}

/**
 * Records a reviewer's decision on this run (`review_records`), whichever way it arrived (CLI, console, signal).
 * The decision has already been taken and acted on: a store that cannot take the record is logged, never fatal.
 */
export async function recordReviewDecision(record: ReviewRecordRequest): Promise<boolean> {
  try {
    await reviewStore.recordReview({ ...record, reason: record.reason ?? null });
    return true;
  } catch (err) {
    log.warn('could not record the review decision; the decision stands', { error: (err as Error).message });
    return false;
  }
}
