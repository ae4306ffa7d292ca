import { z } from 'zod';
import { formatIssues, issuesFrom } from './issues.js';
import { splitPoint } from './prompts.js';

/**
 * Risk-weighted review sampling as policy data: which outputs a person sees before anything is applied, which are
 * scanned first, and what share of the rest is graded after the fact. Pure: the workflow routes with it in its
 * sandbox, and the same policy and run key always give the same route.
 */

/** One field of the model's output matched against allowed values (`{ field: 'category', in: ['account'] }`). */
export const FieldMatch = z.strictObject({
  field: z.string().trim().min(1, 'names a field of the model output'),
  in: z.array(z.string()).min(1, 'needs at least one value'),
});
export type FieldMatch = z.infer<typeof FieldMatch>;

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern, 'iu');
    return true;
  } catch {
    return false;
  }
}

/** A pattern searched for (case-insensitively) in the named text fields of the output; a match flags the output. */
export const Scan = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'lowercase letters, digits and _, starting with a letter'),
  pattern: z.string().min(1, 'must not be empty').refine(compiles, { message: 'must compile as a JavaScript regular expression (flags i and u)' }),
  fields: z.array(z.string().trim().min(1)).min(1, 'names at least one field to scan'),
});
export type Scan = z.infer<typeof Scan>;

/** The grade rate's bounds: below 1 % a week's grades say too little; above 5 % grading turns into reviewing. */
export const GRADE_RATE_MIN = 0.01;
export const GRADE_RATE_MAX = 0.05;

export const ReviewSampling = z.strictObject({
  /** Outputs matching any of these go to a person before anything is applied, every time. */
  highStakes: z.array(FieldMatch).default([]),
  /** Regulated outputs: scanned first; a person sees one only when a scan flags it. */
  regulated: z
    .array(z.strictObject({ when: z.array(FieldMatch).min(1, 'needs at least one field match'), scans: z.array(Scan).min(1, 'needs at least one scan') }))
    .default([]),
  /** The share of auto-applied runs queued for grading after they were applied. */
  gradeRate: z.number().min(GRADE_RATE_MIN, `must be at least ${GRADE_RATE_MIN}`).max(GRADE_RATE_MAX, `must be at most ${GRADE_RATE_MAX}`).default(0.02),
});
export type ReviewSampling = z.infer<typeof ReviewSampling>;
export type ReviewSamplingInput = z.input<typeof ReviewSampling>;

/** Parses a sampling policy; a mistake is named by field and rule (`regulated.0.scans.0.pattern: must compile …`). */
export function defineReviewSampling(input: ReviewSamplingInput): ReviewSampling {
  const parsed = ReviewSampling.safeParse(input);
  if (!parsed.success) throw new Error(`invalid review sampling: ${formatIssues(issuesFrom(parsed.error))}`);
  return parsed.data;
}

export type ReviewRoute = 'human' | 'scan_flagged' | 'auto';

/** What routing decided for one run, and why: recorded in the run's state. */
export interface SamplingRecord {
  /** `human`: high stakes, a person first; `scan_flagged`: a regulated output a scan flagged; `auto`: applied as is. */
  readonly route: ReviewRoute;
  readonly reason: string;
  readonly highStakes: boolean;
  /** Every scan that ran, and on which fields it matched. */
  readonly scans: ReadonlyArray<{ readonly name: string; readonly flagged: boolean; readonly fields: readonly string[] }>;
  /** An auto-applied run drawn for grading. */
  readonly graded: boolean;
  /** The run's deterministic draw in [0, 1). */
  readonly draw: number;
  readonly rate: number;
}

/**
 * The run's draw in [0, 1), from its key alone: the same FNV-1a `splitPoint` the rollout split uses (hand-written
 * because it runs in the workflow sandbox, where `node:crypto` is not available, and must answer the same on every
 * worker forever). Salted so that grading is independent of the rollout split of the same key: without the salt, a
 * 50 % partial rollout would see every graded run fall in the candidate's share.
 */
export function samplingDraw(runKey: string): number {
  return splitPoint(`review-sampling:${runKey}`);
}

function fieldText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

function matches(output: Record<string, unknown>, m: FieldMatch): boolean {
  const value = fieldText(output[m.field]);
  return value !== null && m.in.includes(value);
}

function describe(m: readonly FieldMatch[]): string {
  return m.map((x) => `${x.field} in [${x.in.join(', ')}]`).join(' and ');
}

/**
 * Routes one run's output: high stakes → a person before action; regulated → its scans first, a person only when one
 * flags; otherwise applied, and graded when the run's draw falls under the grade rate. A run with no output (the
 * model gave none) is routed `auto` here: the workflow's own review reasons already hold it for a person.
 */
export function routeForReview(policy: ReviewSampling, run: { readonly runKey: string; readonly output: Record<string, unknown> | null }): SamplingRecord {
  const draw = samplingDraw(run.runKey);
  const rate = policy.gradeRate;
  const auto = (reason: string, scans: SamplingRecord['scans'] = []): SamplingRecord => {
    const graded = draw < rate;
    return { route: 'auto', reason: graded ? `${reason}; drawn for grading (${draw.toFixed(4)} < ${rate})` : reason, highStakes: false, scans, graded, draw, rate };
  };
  const output = run.output;
  if (output === null) return { route: 'auto', reason: 'no output to route', highStakes: false, scans: [], graded: false, draw, rate };
  const stake = policy.highStakes.find((m) => matches(output, m));
  if (stake) return { route: 'human', reason: `high stakes: ${describe([stake])}`, highStakes: true, scans: [], graded: false, draw, rate };
  const scans: Array<{ name: string; flagged: boolean; fields: string[] }> = [];
  const applicable = policy.regulated.filter((r) => r.when.every((m) => matches(output, m)));
  for (const rule of applicable) {
    for (const scan of rule.scans) {
      const re = new RegExp(scan.pattern, 'iu');
      const hit = scan.fields.filter((f) => {
        const text = fieldText(output[f]);
        return text !== null && re.test(text);
      });
      scans.push({ name: scan.name, flagged: hit.length > 0, fields: hit });
    }
  }
  const flagged = scans.filter((s) => s.flagged);
  if (flagged.length > 0) {
    return { route: 'scan_flagged', reason: `regulated output flagged by ${flagged.map((s) => `${s.name} (${s.fields.join(', ')})`).join(', ')}`, highStakes: false, scans, graded: false, draw, rate };
  }
  return auto(applicable.length > 0 ? `regulated output passed ${scans.length} scan(s)` : 'routine output', scans);
}

/** Verdicts of a reviewer's decision (`correction`) and of a grader's look at an applied run (`grade`). */
export const CorrectionVerdict = z.enum(['approved', 'corrected', 'rejected']);
export type CorrectionVerdict = z.infer<typeof CorrectionVerdict>;
export const GradeVerdict = z.enum(['correct', 'incorrect']);
export type GradeVerdict = z.infer<typeof GradeVerdict>;

/** The structured correction form: what the model said, what the person set instead, why and who. */
export interface ReviewRecord {
  readonly id: string;
  readonly kind: 'correction' | 'grade';
  readonly workflowId: string;
  readonly runId: string;
  readonly workflowType: string;
  /** What the model was given, when the workflow recorded it (the ticket's subject and body): a regression case's input. */
  readonly input: unknown;
  readonly original: unknown;
  readonly corrected: unknown;
  readonly verdict: CorrectionVerdict | GradeVerdict;
  readonly reason: string | null;
  readonly reviewer: string;
  readonly promptVersion: string;
  readonly createdAt: string;
}

/** An auto-applied run waiting for (or given) its grade. */
export interface GradingItem {
  readonly workflowId: string;
  readonly runId: string;
  readonly workflowType: string;
  readonly input: unknown;
  readonly output: unknown;
  readonly promptVersion: string;
  readonly draw: number;
  readonly rate: number;
  readonly sampledAt: string;
  readonly gradedAt: string | null;
  readonly gradedBy: string | null;
}
