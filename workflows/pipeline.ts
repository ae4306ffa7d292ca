import type { Duration } from '@temporalio/common';
import { z } from 'zod';
import type { Budgets, Ledger } from '../contracts/budget.js';
import type { ModelRef } from '../contracts/model.js';
import { emptyLedger } from './ledger.js';
import { governedModelStep, type StepPrompt } from './model-step.js';
import { repairTurn } from './prompt.js';

/** A chunk's summary: what the model is asked for, per chunk. */
export const ChunkSummary = z.strictObject({
  summary: z.string().min(1).max(1200).describe('The chunk in two or three sentences.'),
  points: z.array(z.string().max(300)).max(8).describe('Key points of the chunk, one per entry.'),
});
export type ChunkSummary = z.infer<typeof ChunkSummary>;

/** What became of one chunk: summarised (by which model), or missing and why; never silently dropped. */
export type ChunkResult =
  | { readonly index: number; readonly status: 'summarised'; readonly model: string; readonly fellBack: boolean; readonly value: ChunkSummary; readonly usd: number }
  | { readonly index: number; readonly status: 'missing'; readonly reason: string; readonly usd: number };

export interface PipelineOptions {
  readonly text: string;
  /** Chunks are at most this many characters, split at paragraph, then sentence, then word boundaries. */
  readonly chunkChars: number;
  /** Chunk summaries in flight at once. */
  readonly concurrency: number;
  readonly prompt: StepPrompt;
  /** The fallback chain: a chunk the first model cannot summarise goes to the next. */
  readonly chain: readonly ModelRef[];
  /** Bounds of each chunk's model step (each chunk has its own ledger). */
  readonly budgets: Budgets;
  readonly callTimeout: Duration;
  /** Called as each chunk settles: for the `state` query. */
  readonly onChunk?: (result: ChunkResult) => void;
}

export interface PipelineResult {
  readonly chunks: number;
  readonly results: readonly ChunkResult[];
  /** The merged document: every chunk's section in order, a missing one marked where it would be. */
  readonly text: string;
  readonly ledger: Ledger;
}

/**
 * Deterministic pre-processing: control characters out, whitespace normalised, paragraphs kept. Pure, so replay
 * splits the same way.
 */
export function cleanDocument(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    // eslint-disable-next-line no-control-regex -- removing control characters is the point
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')
    .replace(/[ \t]+/g, ' ')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Splits at paragraph boundaries, then sentences, then words, into chunks of at most `max` characters. */
export function splitDocument(text: string, max: number): string[] {
  if (max < 100) throw new RangeError('chunkChars must be at least 100');
  const chunks: string[] = [];
  let current = '';
  const push = (piece: string, sep: string) => {
    if (current.length === 0) current = piece;
    else if (current.length + sep.length + piece.length <= max) current += sep + piece;
    else {
      chunks.push(current);
      current = piece;
    }
  };
  for (const paragraph of text.split(/\n\n+/)) {
    if (paragraph.length <= max) {
      push(paragraph, '\n\n');
      continue;
    }
    for (const sentence of paragraph.split(/(?<=[.!?])\s+/)) {
      if (sentence.length <= max) {
        push(sentence, ' ');
        continue;
      }
      for (const word of sentence.split(' ')) push(word.length <= max ? word : word.slice(0, max), ' ');
    }
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Seed 001's document pipeline: clean and split (pure, in the workflow) → summarise the chunks in parallel, at most
 * `concurrency` at once, each through the governed model step with the fallback chain → merge in order into a
 * template that says which model summarised which chunk. A chunk no model could summarise is marked missing in the
 * output with the reason — never dropped.
 */
export async function runDocumentPipeline(o: PipelineOptions): Promise<PipelineResult> {
  if (!Number.isInteger(o.concurrency) || o.concurrency < 1 || o.concurrency > 64) throw new RangeError('concurrency must be 1-64');
  const chunks = splitDocument(cleanDocument(o.text), o.chunkChars);
  const results: ChunkResult[] = new Array(chunks.length);
  const total = emptyLedger();
  let next = 0;
  // A fixed pool of `concurrency` lanes, each taking the next chunk: deterministic (workflow promises resolve in
  // history order) and bounded.
  const lane = async () => {
    for (let i = next++; i < chunks.length; i = next++) {
      const ledger = emptyLedger();
      const out = await governedModelStep({
        step: `chunk_${i}`,
        prompt: o.prompt,
        schema: ChunkSummary,
        rules: [],
        messages: [{ role: 'user', content: `Chunk ${i + 1} of ${chunks.length}:\n<chunk>${chunks[i]}</chunk>` }],
        repair: repairTurn('Answer again through the chunk summary tool with every field valid.'),
        chain: o.chain,
        budgets: o.budgets,
        ledger,
        callTimeout: o.callTimeout,
      });
      total.usd += ledger.usd;
      total.inputTokens += ledger.inputTokens;
      total.outputTokens += ledger.outputTokens;
      total.modelCalls += ledger.modelCalls;
      const result: ChunkResult =
        out.status === 'ok'
          ? { index: i, status: 'summarised', model: out.model.model, fellBack: out.model.model !== o.chain[0]?.model, value: out.value, usd: ledger.usd }
          : { index: i, status: 'missing', reason: `${out.status}: ${'detail' in out ? out.detail : ''}`.slice(0, 300), usd: ledger.usd };
      results[i] = result;
      o.onChunk?.(result);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, chunks.length) }, lane));
  const sections = results.map((r) =>
    r.status === 'summarised'
      ? `## Part ${r.index + 1} (summarised by ${r.model}${r.fellBack ? ', fallback' : ''})\n${r.value.summary}\n${r.value.points.map((p) => `- ${p}`).join('\n')}`
      : `## Part ${r.index + 1} (MISSING: ${r.reason})`,
  );
  return { chunks: chunks.length, results, text: sections.join('\n\n'), ledger: total };
}
