import { Counter } from 'prom-client';
import { z } from 'zod';
import { formatIssues, issuesFrom } from '../contracts/issues.js';
import { CorrectionVerdict, GradeVerdict, type GradingItem, type ReviewRecord } from '../contracts/review.js';
import type { SqlQueryable } from './sql.js';
import type { Store } from './store.js';

/**
 * The review store: auto-applied runs drawn for grading (`grading_queue`) and every person's verdict on a run
 * (`review_records`, the structured correction form). Written by runs (through the framework's local activities) and
 * by the review console (`gradeRun`); read by the console, `governor eval export-corrections` and the worker's
 * `/reviews` endpoint.
 */

/** Input that breaks a rule of the review store: the message names the field and the rule; nothing was written. */
export class ReviewInputInvalid extends Error {}

/**
 * Grades as they land, by workflow type and verdict: the SLO on grading accuracy reads the share of `incorrect`.
 * Counted by `gradeRun` itself (once per accepted grade, in the process that accepted it), and served on that
 * process's `/metrics` (`startMetricsServer` registers it): the console runs inside the worker process.
 */
export const gradesTotal = new Counter({
  name: 'governor_grades_total',
  help: 'Grades of auto-applied runs, by verdict.',
  labelNames: ['workflowType', 'verdict'],
  registers: [],
});

/** Counts one grade; `gradeRun` already does for the grades it accepts (for grades recorded some other way). */
export function recordGradeMetric(workflowType: string, verdict: GradeVerdict): void {
  gradesTotal.inc({ workflowType, verdict });
}

function parse<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new ReviewInputInvalid(`invalid ${what}: ${formatIssues(issuesFrom(parsed.error))}`);
  return parsed.data;
}

/** PostgreSQL keeps no NUL (text or jsonb) and no half of a surrogate pair (jsonb): refused by field, not by the database. */
function storable(s: string): boolean {
  return !s.includes('\u0000') && !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}
const STORABLE = 'must not contain NUL or half of a surrogate pair';

const Id = z.string().trim().min(1, 'is required').max(500, 'at most 500 characters').refine(storable, STORABLE);
const Reason = z.string().max(2000, 'at most 2000 characters').refine(storable, STORABLE);
/** A JSON value the store keeps as `jsonb`: anything but `undefined`. */
const Json = z.unknown().refine((v) => v !== undefined, 'is required (null for none)');

function storableJson(v: unknown): boolean {
  if (typeof v === 'string') return storable(v);
  return typeof v !== 'object' || v === null || Object.entries(v).every(([key, child]) => storable(key) && storableJson(child));
}

/** What a caller hands in to be kept as `jsonb`: refused here, by field, when JSON or the store cannot carry it. */
const JsonCarried = z.unknown().refine((v) => {
  try {
    JSON.stringify(v);
  } catch {
    return false;
  }
  return storableJson(v);
}, 'must be a JSON value (no BigInt, no cycle), with no NUL or half of a surrogate pair in it');

export const GradingRow = z.strictObject({
  workflowId: Id,
  runId: Id,
  workflowType: Id,
  input: z.unknown().optional(),
  output: Json,
  promptVersion: z.string().max(500),
  draw: z.number().min(0, 'must be in [0, 1)').lt(1, 'must be in [0, 1)'),
  rate: z.number().gt(0, 'must be in (0, 1]').max(1, 'must be in (0, 1]'),
});
export type GradingRow = z.input<typeof GradingRow>;

const ReviewRecordBase = {
  workflowId: Id,
  runId: Id,
  workflowType: Id,
  input: z.unknown().optional(),
  original: Json,
  reason: Reason.nullish(),
  reviewer: Id,
  promptVersion: z.string().max(500),
};
export const ReviewRecordInput = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('correction'), verdict: CorrectionVerdict, corrected: z.unknown().optional(), ...ReviewRecordBase }),
  z.strictObject({ kind: z.literal('grade'), verdict: GradeVerdict, corrected: z.unknown().optional(), ...ReviewRecordBase }),
]);
export type ReviewRecordInput = z.input<typeof ReviewRecordInput>;

export const GradeInput = z
  .strictObject({
    workflowId: Id,
    reviewer: Id,
    verdict: GradeVerdict,
    corrected: JsonCarried.optional(),
    reason: Reason.optional(),
  })
  .refine((g) => g.verdict === 'incorrect' || g.corrected === undefined || g.corrected === null, {
    path: ['corrected'],
    message: 'only an incorrect grade carries a corrected output',
  });
export type GradeInput = z.input<typeof GradeInput>;

export type GradeOutcome =
  | { readonly status: 'accepted'; readonly record: ReviewRecord }
  | { readonly status: 'already_graded'; readonly by: string; readonly at: string }
  | { readonly status: 'not_found' };

const ListToGrade = z.strictObject({
  workflowType: Id.optional(),
  /** Bounded: a console page, not the table. */
  limit: z.number().int('must be a whole number').min(1, 'must be at least 1').max(500, 'must be at most 500').default(50),
});
const ListReviews = z.strictObject({
  since: z.union([z.date(), z.iso.datetime({ offset: true, message: 'must be an ISO-8601 time' })]).optional(),
  kind: z.enum(['correction', 'grade']).optional(),
  workflowType: Id.optional(),
  limit: z.number().int('must be a whole number').min(1, 'must be at least 1').max(5000, 'must be at most 5000').default(500),
});

interface RecordRow {
  id: string | number;
  kind: 'correction' | 'grade';
  workflow_id: string;
  run_id: string;
  workflow_type: string;
  input: unknown;
  original: unknown;
  corrected: unknown;
  verdict: ReviewRecord['verdict'];
  reason: string | null;
  reviewer: string;
  prompt_version: string;
  created_at: Date | string;
}

const toRecord = (r: RecordRow): ReviewRecord => ({
  id: String(r.id),
  kind: r.kind,
  workflowId: r.workflow_id,
  runId: r.run_id,
  workflowType: r.workflow_type,
  input: r.input ?? null,
  original: r.original ?? null,
  corrected: r.corrected ?? null,
  verdict: r.verdict,
  reason: r.reason,
  reviewer: r.reviewer,
  promptVersion: r.prompt_version,
  createdAt: new Date(r.created_at).toISOString(),
});

interface QueueRow {
  workflow_id: string;
  run_id: string;
  workflow_type: string;
  input: unknown;
  output: unknown;
  prompt_version: string;
  draw: number;
  rate: number;
  sampled_at: Date | string;
  graded_at: Date | string | null;
  graded_by: string | null;
}

const toItem = (r: QueueRow): GradingItem => ({
  workflowId: r.workflow_id,
  runId: r.run_id,
  workflowType: r.workflow_type,
  input: r.input ?? null,
  output: r.output,
  promptVersion: r.prompt_version,
  draw: Number(r.draw),
  rate: Number(r.rate),
  sampledAt: new Date(r.sampled_at).toISOString(),
  gradedAt: r.graded_at === null ? null : new Date(r.graded_at).toISOString(),
  gradedBy: r.graded_by,
});

/** `jsonb` parameters go as JSON text; `undefined` (not given) is stored as SQL null. */
const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));

/**
 * Queues an auto-applied run for grading. Idempotent per workflow id (an activity may run twice): true only for the
 * call that queued it.
 */
export async function queueForGrading(store: Store, row: GradingRow): Promise<boolean> {
  const r = parse(GradingRow, row, 'grading row');
  const inserted = await store.db.query<{ workflow_id: string }>(
    `insert into grading_queue (workflow_id, run_id, workflow_type, input, output, prompt_version, draw, rate)
     values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (workflow_id) do nothing returning workflow_id`,
    [r.workflowId, r.runId, r.workflowType, json(r.input), JSON.stringify(r.output), r.promptVersion, r.draw, r.rate],
  );
  return inserted.rows.length > 0;
}

/** Runs waiting for a grade, oldest first, at most `limit` (default 50). */
export async function listToGrade(store: Store, options: { workflowType?: string; limit?: number } = {}): Promise<GradingItem[]> {
  const o = parse(ListToGrade, options, 'grading list options');
  const rows = await store.db.query<QueueRow>(
    `select workflow_id, run_id, workflow_type, input, output, prompt_version, draw, rate, sampled_at, graded_at, graded_by
     from grading_queue where graded_at is null ${o.workflowType ? 'and workflow_type = $2' : ''}
     order by sampled_at, workflow_id limit $1`,
    o.workflowType ? [o.limit, o.workflowType] : [o.limit],
  );
  return rows.rows.map(toItem);
}

/** One run of the grading queue, graded or not; null when it was never queued. */
export async function gradingItem(store: Store, workflowId: string): Promise<GradingItem | null> {
  const rows = await store.db.query<QueueRow>(
    `select workflow_id, run_id, workflow_type, input, output, prompt_version, draw, rate, sampled_at, graded_at, graded_by
     from grading_queue where workflow_id = $1`,
    [workflowId],
  );
  return rows.rows[0] ? toItem(rows.rows[0]) : null;
}

async function insertRecord(db: SqlQueryable, r: z.infer<typeof ReviewRecordInput>): Promise<{ created: boolean; record: ReviewRecord }> {
  const inserted = await db.query<RecordRow>(
    `insert into review_records (kind, workflow_id, run_id, workflow_type, input, original, corrected, verdict, reason, reviewer, prompt_version)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) on conflict (workflow_id, kind) do nothing returning *`,
    [r.kind, r.workflowId, r.runId, r.workflowType, json(r.input), json(r.original), json(r.corrected), r.verdict, r.reason ?? null, r.reviewer, r.promptVersion],
  );
  if (inserted.rows[0]) return { created: true, record: toRecord(inserted.rows[0]) };
  const existing = await db.query<RecordRow>('select * from review_records where workflow_id = $1 and kind = $2', [r.workflowId, r.kind]);
  return { created: false, record: toRecord(existing.rows[0]!) };
}

/**
 * Grades a queued run, once: in one transaction that locks its queue row, so of two graders at once exactly one is
 * accepted and the other is told who graded it and when. Counts the accepted grade (`governor_grades_total`).
 */
export async function gradeRun(store: Store, input: GradeInput): Promise<GradeOutcome> {
  const g = parse(GradeInput, input, 'grade');
  const outcome = await store.db.transaction(async (tx): Promise<GradeOutcome> => {
    const found = await tx.query<QueueRow>('select * from grading_queue where workflow_id = $1 for update', [g.workflowId]);
    const row = found.rows[0];
    if (!row) return { status: 'not_found' };
    if (row.graded_at !== null) return { status: 'already_graded', by: row.graded_by ?? '', at: new Date(row.graded_at).toISOString() };
    await tx.query('update grading_queue set graded_at = now(), graded_by = $2 where workflow_id = $1', [g.workflowId, g.reviewer]);
    const { record } = await insertRecord(tx, {
      kind: 'grade',
      workflowId: row.workflow_id,
      runId: row.run_id,
      workflowType: row.workflow_type,
      input: row.input ?? undefined,
      original: row.output ?? null,
      corrected: g.verdict === 'incorrect' ? g.corrected : undefined,
      verdict: g.verdict,
      reason: g.reason ?? null,
      reviewer: g.reviewer,
      promptVersion: row.prompt_version,
    });
    return { status: 'accepted', record };
  });
  // Counted after the commit: a grade rolled back is no grade.
  if (outcome.status === 'accepted') recordGradeMetric(outcome.record.workflowType, outcome.record.verdict as GradeVerdict);
  return outcome;
}

/**
 * Records a person's verdict on a run. Idempotent per (workflow id, kind): the first record stands, a repeat (an
 * activity run twice) returns it with `created: false`.
 */
export async function recordReview(store: Store, record: ReviewRecordInput): Promise<{ created: boolean; record: ReviewRecord }> {
  return insertRecord(store.db, parse(ReviewRecordInput, record, 'review record'));
}

/** Review records, oldest first, at most `limit` (default 500): what export-corrections and the console read. */
export async function listReviewRecords(
  store: Store,
  options: { since?: Date | string; kind?: 'correction' | 'grade'; workflowType?: string; limit?: number } = {},
): Promise<ReviewRecord[]> {
  const o = parse(ListReviews, options, 'review list options');
  const where: string[] = [];
  const params: unknown[] = [o.limit];
  const add = (clause: string, value: unknown) => {
    params.push(value);
    where.push(clause.replace('?', `$${params.length}`));
  };
  if (o.since !== undefined) add('created_at >= ?', new Date(o.since).toISOString());
  if (o.kind) add('kind = ?', o.kind);
  if (o.workflowType) add('workflow_type = ?', o.workflowType);
  const rows = await store.db.query<RecordRow>(
    `select * from review_records ${where.length ? `where ${where.join(' and ')}` : ''} order by created_at, id limit $1`,
    params,
  );
  return rows.rows.map(toRecord);
}
