import { z } from 'zod';
import { Budgets, Duration, id, ModelRef } from 'governor';
import type { ChunkResult } from 'governor/workflow';

/** Trigger contract `document.submitted`, schema version 1: a long document (a policy, a pasted thread) to summarise. */
export const DOCUMENT_SUBMITTED = 'document.submitted';

export const DocumentSubmitted = z.strictObject({
  event: z.literal(DOCUMENT_SUBMITTED),
  schema_version: z.literal(1).default(1),
  event_id: id('evt'),
  created_at: z.iso.datetime({ offset: true, message: 'must be an ISO-8601 timestamp' }),
  document_id: id('doc'),
  title: z.string().trim().min(1).max(300),
  text: z.string().trim().min(1, 'must not be empty').max(2_000_000, 'must be at most 2,000,000 characters'),
});
export type DocumentSubmitted = z.infer<typeof DocumentSubmitted>;

export const DocumentConfig = z.strictObject({
  chunkChars: z.number().int().min(200).max(20_000).default(2_000),
  concurrency: z.number().int().min(1).max(32).default(4),
  /** The fallback chain: a chunk the first model cannot summarise goes to the next. */
  modelChain: z.array(ModelRef).min(1).max(4).optional(),
  budgets: Budgets.prefault({ maxModelCalls: 8 }),
  modelCallTimeout: Duration.default('60s'),
});
export type DocumentConfig = z.infer<typeof DocumentConfig>;

export interface DocumentInput {
  readonly event: DocumentSubmitted;
  readonly config: DocumentConfig;
}

/** The run's progress for the `state` query: each chunk's outcome as it settles (no summaries: they are in the result). */
export interface DocumentState {
  readonly documentId: string;
  phase: 'splitting' | 'summarising' | 'completed';
  chunks: number;
  settled: Array<Pick<ChunkResult, 'index' | 'status'> & { model: string | null; reason: string | null }>;
}

export interface DocumentResult {
  readonly documentId: string;
  readonly title: string;
  readonly chunks: number;
  readonly missing: number[];
  /** Which model summarised which chunk (null: missing). */
  readonly models: Array<string | null>;
  readonly text: string;
  readonly usd: number;
}
