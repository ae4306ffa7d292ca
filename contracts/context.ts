import { z } from 'zod';

/**
 * A context budget, declared before the first turn: what a model is sent each turn. Pinned facts (the task, its
 * constraints, what must never be forgotten) are always sent and never summarised; the most recent turns are kept
 * verbatim; older high-value turns are compressed into a structured summary by a governed model step; older
 * low-value detail (raw tool output already acted on) is dropped first.
 */
export const ContextBudget = z.strictObject({
  /** Input tokens the model may be sent per turn: system prompt, pinned facts, summary and turns together. */
  maxInputTokens: z.number().int().min(256, 'at least 256 tokens').max(2_000_000),
  /** The newest turns always sent as they are. */
  keepRecentTurns: z.number().int().min(1).max(50).default(4),
  /** Summarise older turns once the context would pass this share of the budget. */
  summariseAt: z.number().min(0.1).max(1).default(0.8),
  /** The summary's allowance, in tokens. */
  maxSummaryTokens: z.number().int().min(64).default(1024),
});
export type ContextBudget = z.infer<typeof ContextBudget>;
export type ContextBudgetInput = z.input<typeof ContextBudget>;

/** A turn as the budget sees it: its tokens (counted by a real tokenizer or the provider) and its worth. */
export interface ContextTurn {
  readonly id: string;
  readonly tokens: number;
  /** `low`: detail that may be dropped once acted on (a raw tool result); `high`: kept, or summarised when old. */
  readonly value: 'high' | 'low';
}

/** What to send this turn, and what happens to the rest; the `state` query shows it. */
export interface ContextPlan {
  /** Turns sent verbatim, oldest first. */
  readonly keep: readonly string[];
  /** Older high-value turns to fold into the summary now. */
  readonly summarise: readonly string[];
  /** Turns left out (low-value detail). */
  readonly drop: readonly string[];
  /** Tokens of what is sent: fixed part, summary (at most its allowance) and kept turns. */
  readonly tokens: number;
  /** True when even the fixed part and the newest turn do not fit: stop, or ask a person; never send it silently. */
  readonly overBudget: boolean;
}

/**
 * Plans one turn's context under the budget, deterministically (a pure function: safe in workflow code).
 * `fixedTokens` is the system prompt and the pinned facts; `summaryTokens` the current summary's.
 */
export function planContext(budget: ContextBudget, input: { readonly fixedTokens: number; readonly summaryTokens: number; readonly turns: readonly ContextTurn[] }): ContextPlan {
  const { fixedTokens, turns } = input;
  const summary = Math.min(input.summaryTokens, budget.maxSummaryTokens);
  const sum = (ts: readonly ContextTurn[]) => ts.reduce((n, t) => n + t.tokens, 0);
  if (fixedTokens + summary + sum(turns) <= budget.summariseAt * budget.maxInputTokens) {
    return { keep: turns.map((t) => t.id), summarise: [], drop: [], tokens: fixedTokens + summary + sum(turns), overBudget: false };
  }
  const recent = turns.slice(-budget.keepRecentTurns);
  const older = turns.slice(0, Math.max(0, turns.length - budget.keepRecentTurns));
  const drop = older.filter((t) => t.value === 'low').map((t) => t.id);
  const summarise = older.filter((t) => t.value === 'high').map((t) => t.id);
  // What is summarised now occupies the summary's allowance from the next turn on.
  const withSummary = summarise.length > 0 ? budget.maxSummaryTokens : summary;
  let kept = [...recent];
  // Still over: low-value recent detail goes next, oldest first; the newest turn always stays.
  for (const t of recent.slice(0, -1)) {
    if (fixedTokens + withSummary + sum(kept) <= budget.maxInputTokens) break;
    if (t.value === 'low') {
      kept = kept.filter((k) => k.id !== t.id);
      drop.push(t.id);
    }
  }
  const tokens = fixedTokens + withSummary + sum(kept);
  return { keep: kept.map((t) => t.id), summarise, drop, tokens, overBudget: tokens > budget.maxInputTokens };
}
