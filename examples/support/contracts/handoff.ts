import { z } from 'zod';
import type { Handoff, HandoffExpectation } from 'governor';

/** The analyst's structured output (prompt spec `dataset_analyst`). */
export const Analysis = z.strictObject({
  headline: z.string().min(1).max(200),
  findings: z.array(z.string().min(1).max(300)).min(1).max(5),
  confidence: z.number().min(0).max(1),
});
export type Analysis = z.infer<typeof Analysis>;

export const HandoffInput = z.strictObject({
  /** Names the task; the workflow id is `handoff/<taskId>`. */
  taskId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be letters, digits, _ or -'),
  category: z.string().min(1).max(40),
  limit: z.number().int().min(1).max(500).default(100),
});
export type HandoffInput = z.infer<typeof HandoffInput>;

export interface AnalystInput {
  readonly handoff: unknown;
  readonly expected: HandoffExpectation;
}

export type AnalystResult =
  | { readonly status: 'analyzed'; readonly analysis: Analysis; readonly artifactId: string; readonly evidenceIds: string[] }
  | { readonly status: 'refused'; readonly reason: string }
  | { readonly status: 'failed'; readonly reason: string };

export interface HandoffState {
  phase: 'researching' | 'handing_off' | 'analyzing' | 'completed';
  handoff: Handoff | null;
  result: AnalystResult | null;
}
