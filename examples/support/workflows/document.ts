import { setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { Budgets, type ModelRef } from 'governor';
import { governorSearchAttributes, runDocumentPipeline } from 'governor/workflow';
import type { DocumentInput, DocumentResult, DocumentState } from '../contracts/document.js';
import { documentStateQuery } from '../messages.js';
import { chunkSummariserPrompt } from '../prompts/document-summariser.js';

/**
 * `document.submitted` → clean and split (pure) → chunk summaries in parallel, bounded, each with the fallback
 * chain → merged in order; a chunk no model could summarise is marked missing in the output, never dropped.
 */
export async function documentPipeline(input: DocumentInput): Promise<DocumentResult> {
  const { event, config } = input;
  const chain: ModelRef[] = config.modelChain ?? [{ provider: 'anthropic', model: 'claude-haiku-4-5' }, { provider: 'openai', model: 'gpt-4.1-mini' }];
  const state: DocumentState = { documentId: event.document_id, phase: 'splitting', chunks: 0, settled: [] };
  setHandler(documentStateQuery, () => state);
  upsertSearchAttributes([{ key: governorSearchAttributes.phase, value: 'summarising' }]);
  state.phase = 'summarising';
  const out = await runDocumentPipeline({
    text: event.text,
    chunkChars: config.chunkChars,
    concurrency: config.concurrency,
    prompt: chunkSummariserPrompt,
    chain,
    budgets: Budgets.parse(config.budgets),
    callTimeout: config.modelCallTimeout as Duration,
    onChunk: (r) => {
      state.settled.push({ index: r.index, status: r.status, model: r.status === 'summarised' ? r.model : null, reason: r.status === 'missing' ? r.reason : null });
    },
  });
  state.chunks = out.chunks;
  state.phase = 'completed';
  upsertSearchAttributes([{ key: governorSearchAttributes.phase, value: 'completed' }]);
  return {
    documentId: event.document_id,
    title: event.title,
    chunks: out.chunks,
    missing: out.results.filter((r) => r.status === 'missing').map((r) => r.index),
    models: out.results.map((r) => (r.status === 'summarised' ? r.model : null)),
    text: `# ${event.title}\n\n${out.text}`,
    usd: out.ledger.usd,
  };
}
