import { z } from 'zod';
import type { TokenUsage } from './model.js';

/** USD per million tokens. */
export const Price = z.strictObject({ input: z.number().nonnegative(), output: z.number().nonnegative() });
export type Price = z.infer<typeof Price>;

/**
 * List prices per model (USD per million tokens), as data: a run may override or extend them
 * (`budgets.prices`). A model missing from the table is charged at `UNKNOWN_MODEL_PRICE`, on purpose higher
 * than any listed model, so an unpriced model can never slip under a budget.
 */
export const DEFAULT_PRICES: Readonly<Record<string, Price>> = {
  'claude-haiku-4-5': { input: 1, output: 5 },
  'claude-sonnet-4-5': { input: 3, output: 15 },
  'claude-sonnet-4-6': { input: 3, output: 15 },
  'claude-opus-4-5': { input: 5, output: 25 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
};
export const UNKNOWN_MODEL_PRICE: Price = { input: 15, output: 75 };

/** Durations are Temporal duration strings ('90s', '24h') or milliseconds. */
export const Duration = z.union([z.string().regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/, 'must be like 30s, 15m or 24h'), z.number().int().positive()]);

/**
 * Every bound of a governed run, declared in one place with its default. Each failure class has its own budget:
 * transport retries (per model, by Temporal's retry policy), repair rounds, fallbacks (the chain's length), model
 * calls, dollars, tokens and wall time. Nothing retries forever.
 */
export const Budgets = z.strictObject({
  /** Attempts of one model call (Temporal retry policy) before falling back to the next model. */
  transportAttempts: z.number().int().min(1).max(10).default(3),
  /** Repair calls after an invalid reply, across the whole step. */
  maxRepairRounds: z.number().int().min(0).max(5).default(1),
  /** Model calls in the run, all models and repairs included (cache hits are free). */
  maxModelCalls: z.number().int().min(1).max(50).default(6),
  /** Spend ceiling for the run in USD: once the ledger passes it, no further model call is made. */
  maxUsd: z.number().positive().default(0.1),
  /** Token ceiling for the run (input + output). */
  maxTokens: z.number().int().positive().default(50_000),
  /** Wall time from the run's start after which no further model call is made. */
  maxWallTime: Duration.default('10m'),
  /**
   * Downgrade instead of stopping: when the next call on the current model would take the ledger past `maxUsd`,
   * use the cheapest model of the chain whose estimated cost still fits.
   */
  downgradeOnBudget: z.boolean().default(false),
  prices: z.record(z.string(), Price).default({}),
});
export type Budgets = z.infer<typeof Budgets>;
export type BudgetsInput = z.input<typeof Budgets>;

/** One charge on the run's ledger: kept in workflow state, so replay rebuilds it from history and never double-counts. */
export interface LedgerEntry {
  readonly step: string;
  readonly model: string;
  readonly provider: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly usd: number;
  /** True when the answer came from the response cache: no model call, no cost. */
  readonly cached: boolean;
}

export interface Ledger {
  usd: number;
  inputTokens: number;
  outputTokens: number;
  modelCalls: number;
  cacheHits: number;
  entries: LedgerEntry[];
}

/** A model's price under a run's budgets: its own override, else the list price, else the unknown-model price. */
export function priceOf(model: string, budgets: Budgets): Price {
  return budgets.prices[model] ?? DEFAULT_PRICES[model] ?? UNKNOWN_MODEL_PRICE;
}

/** What a call cost, in USD, at those prices. Pure: workflows charge their ledgers with it, activities their spend. */
export function costOf(model: string, usage: TokenUsage, budgets: Budgets): number {
  const price = priceOf(model, budgets);
  return (usage.inputTokens * price.input + usage.outputTokens * price.output) / 1_000_000;
}
