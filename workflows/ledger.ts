import { costOf, priceOf, type Budgets, type Ledger, type LedgerEntry } from '../contracts/budget.js';
import type { ModelRef, TokenUsage } from '../contracts/model.js';

export function emptyLedger(): Ledger {
  return { usd: 0, inputTokens: 0, outputTokens: 0, modelCalls: 0, cacheHits: 0, entries: [] };
}

export { costOf, priceOf };

/** Charges one model call (or records a free cache hit). Pure: the ledger is workflow state. */
export function charge(ledger: Ledger, step: string, model: ModelRef, usage: TokenUsage, budgets: Budgets, cached = false): LedgerEntry {
  const usd = cached ? 0 : costOf(model.model, usage, budgets);
  const entry: LedgerEntry = { step, model: model.model, provider: model.provider, inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, usd, cached };
  ledger.entries.push(entry);
  if (cached) {
    ledger.cacheHits++;
    return entry;
  }
  ledger.usd += usd;
  ledger.inputTokens += usage.inputTokens;
  ledger.outputTokens += usage.outputTokens;
  ledger.modelCalls++;
  return entry;
}

/** Why no further model call may be made, or null. */
export function exhausted(ledger: Ledger, budgets: Budgets, elapsedMs: number, maxWallMs: number): string | null {
  if (ledger.usd >= budgets.maxUsd) return `spent $${ledger.usd.toFixed(6)} of $${budgets.maxUsd}`;
  if (ledger.inputTokens + ledger.outputTokens >= budgets.maxTokens) return `used ${ledger.inputTokens + ledger.outputTokens} of ${budgets.maxTokens} tokens`;
  if (ledger.modelCalls >= budgets.maxModelCalls) return `made ${ledger.modelCalls} of ${budgets.maxModelCalls} model calls`;
  if (elapsedMs >= maxWallMs) return `ran ${Math.round(elapsedMs / 1000)}s of ${Math.round(maxWallMs / 1000)}s wall time`;
  return null;
}

/** A cautious estimate of one call's cost: prompt characters / 4 as input tokens, the full output allowance. */
export function estimateCall(model: string, promptChars: number, maxOutputTokens: number, budgets: Budgets): number {
  return costOf(model, { inputTokens: Math.ceil(promptChars / 4), outputTokens: maxOutputTokens }, budgets);
}
