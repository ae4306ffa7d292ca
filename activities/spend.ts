import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { FailureType, retryableFailure, terminalFailure } from '../contracts/failures.js';
import { formatIssues, issuesFrom } from '../contracts/issues.js';
import type { ModelCallRequest, TokenUsage } from '../contracts/model.js';
import type { Store } from './store.js';
import { tokenizerCountRequest } from './tokens.js';

/**
 * Limits shared by every worker on the same store: a daily spend ceiling across all runs (the denial-of-wallet
 * guard) and a token rate per provider. Both live in the store, so two workers on one PostgreSQL hold one limit.
 */
export const SpendLimits = z.strictObject({
  /** USD spent on model calls per UTC day, across every run; new calls stop once it is reached. */
  dailyUsd: z.number().positive().optional(),
  /** Tokens per minute per provider (input estimated before the call, plus its output allowance). */
  tokensPerMinute: z.record(z.string(), z.number().int().positive()).default({}),
  /** Requests per minute per provider, shared the same way. */
  requestsPerMinute: z.record(z.string(), z.number().int().positive()).default({}),
  /** The bucket holds this many seconds of tokens (default 60: a full minute's worth may be spent at once). */
  burstSeconds: z.number().positive().max(3600).default(60),
  /** How long a call waits for tokens before it gives up for this attempt (default 20 s; Temporal retries it). */
  maxWaitMs: z.number().int().positive().max(55_000).default(20_000),
});
export type SpendLimits = z.infer<typeof SpendLimits>;
export type SpendLimitsInput = z.input<typeof SpendLimits>;

export function spendLimits(input: SpendLimitsInput): SpendLimits {
  const parsed = SpendLimits.safeParse(input);
  if (!parsed.success) throw new Error(`spend limits: ${formatIssues(issuesFrom(parsed.error))}`);
  return parsed.data;
}

/** Today's spend across every run on this store. */
export async function spentToday(store: Store): Promise<number> {
  const row = await store.db.query<{ usd: string | number | null }>('select coalesce(sum(usd), 0) as usd from model_spend where day = current_date');
  return Number(row.rows[0]?.usd ?? 0);
}

/**
 * Before a model call: refuses it for good when today's ceiling is reached (the step stops with `budget_exceeded`,
 * saying why), and takes a request slot and the call's tokens from the provider's shared buckets, waiting for them
 * (bounded) when a bucket is short. A token bucket in SQL, written by hand: Temporal's task-queue rate limit counts activities, not
 * tokens, and must be shared by workers that do not share memory.
 */
export async function admitModelCall(store: Store, limits: SpendLimits, req: ModelCallRequest): Promise<void> {
  if (limits.dailyUsd !== undefined) {
    const spent = await spentToday(store);
    if (spent >= limits.dailyUsd) {
      throw terminalFailure(FailureType.SpendCeilingReached, `the daily spend ceiling of $${limits.dailyUsd} is reached ($${spent.toFixed(4)} spent today): no new model calls until 00:00 UTC`);
    }
  }
  const provider = req.model.provider;
  const deadline = Date.now() + limits.maxWaitMs;
  const requests = limits.requestsPerMinute[provider];
  if (requests) await take(store, `requests:${provider}`, requests, limits.burstSeconds, 1, deadline, `${provider}: no request slot within ${limits.maxWaitMs} ms (${requests} per minute shared by every worker)`);
  const tokens = limits.tokensPerMinute[provider];
  if (tokens) {
    const estimate = tokenizerCountRequest({ system: req.system, messages: req.messages }) + req.maxOutputTokens;
    await take(store, `tokens:${provider}`, tokens, limits.burstSeconds, estimate, deadline, `${provider}: ${estimate} tokens not available within ${limits.maxWaitMs} ms (${tokens} per minute shared by every worker)`);
  }
}

/** Takes `need` from a bucket refilled at `perMinute`, holding `burstSeconds` of it; waits (until `deadline`) when short. */
async function take(store: Store, bucket: string, perMinute: number, burstSeconds: number, wanted: number, deadline: number, refusal: string): Promise<void> {
  const perSecond = perMinute / 60;
  // At least one call's worth, so a call never waits for a bucket too small to ever hold it.
  const capacity = Math.max(perSecond * burstSeconds, Math.min(wanted, perMinute));
  const need = Math.min(capacity, wanted);
  await store.db.query('insert into rate_buckets (name, tokens, updated_at) values ($1, $2, clock_timestamp()) on conflict (name) do nothing', [bucket, capacity]);
  for (;;) {
    // One statement: refill by the time passed, take `need` if there is that much; concurrent workers serialise on the row.
    const taken = await store.db.query<{ tokens: number }>(
      `update rate_buckets
          set tokens = least($2::float8, tokens + extract(epoch from (clock_timestamp() - updated_at)) * $3::float8) - $4::float8,
              updated_at = clock_timestamp()
        where name = $1 and least($2::float8, tokens + extract(epoch from (clock_timestamp() - updated_at)) * $3::float8) >= $4::float8
        returning tokens`,
      [bucket, capacity, perSecond, need],
    );
    if (taken.rows.length > 0) return;
    const row = await store.db.query<{ tokens: number }>(
      'select least($2::float8, tokens + extract(epoch from (clock_timestamp() - updated_at)) * $3::float8) as tokens from rate_buckets where name = $1',
      [bucket, capacity, perSecond],
    );
    const waitMs = Math.ceil(((need - Number(row.rows[0]?.tokens ?? 0)) / perSecond) * 1000);
    if (Date.now() + waitMs > deadline) throw retryableFailure(FailureType.TokenRateLimited, refusal, { nextRetryDelay: waitMs });
    await sleep(Math.max(50, waitMs));
  }
}

/** After a model call: its cost, counted toward today's spend. */
export async function recordSpend(store: Store, provider: string, usd: number, usage: TokenUsage): Promise<void> {
  await store.db.query(
    `insert into model_spend (day, provider, usd, tokens, calls) values (current_date, $1, $2, $3, 1)
     on conflict (day, provider) do update set usd = model_spend.usd + excluded.usd, tokens = model_spend.tokens + excluded.tokens, calls = model_spend.calls + 1`,
    [provider, usd, usage.inputTokens + usage.outputTokens],
  );
}
