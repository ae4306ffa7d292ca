import { z } from 'zod';

/**
 * Several reads a run makes at once (its opening reads: the controls in force, the prompt pin, the domain's context)
 * asked as one local activity: one task, one marker and one workflow activation instead of one each. Every read is
 * an activity registered on the same worker and declared a read there (`createGovernorWorker({ reads })`); the
 * activity runs them together and answers with each one's outcome, so each read keeps its own failure handling.
 */

/** At most this many reads in one request: a run's opening reads, not a query engine. */
export const MAX_READS_TOGETHER = 16;

/** One read: a registered activity by name and its arguments. */
export const ReadCall = z.strictObject({
  activity: z.string().min(1, 'names the activity to run'),
  args: z.array(z.unknown()).max(8, 'at most 8 arguments'),
});
export type ReadCall = z.infer<typeof ReadCall>;

export const ReadTogetherRequest = z.strictObject({
  reads: z.array(ReadCall).min(1, 'names at least one read').max(MAX_READS_TOGETHER, `at most ${MAX_READS_TOGETHER} reads`),
  /**
   * The local activity's attempts (its retry policy's maximum). While attempts remain, a read that failed with a
   * retryable error fails the whole attempt, so every read is tried again together; the last attempt answers with
   * what each read gave.
   */
  attempts: z.number().int().min(1).max(100),
});
export type ReadTogetherRequest = z.infer<typeof ReadTogetherRequest>;

/** What one read gave: its value, or the error of its last try (with the failure type when it had one). */
export type ReadOutcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: { readonly message: string; readonly type: string | null; readonly nonRetryable: boolean } };

/** The activities every Governor worker declares reads (a store read each, no effect): they may be read together. */
export const KIT_READS: readonly string[] = ['workflowControls', 'resolveRun', 'listEvidence'];
