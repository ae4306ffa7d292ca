import { proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { TokenCount, TokenCountRequest } from '../activities/tokens.js';

/** Counting is a millisecond computation on the worker (or one provider request): a local activity, recorded for replay. */
const local = proxyLocalActivities<Activities>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '2s', maximumAttempts: 3 },
});

/**
 * A request's input tokens, for planning its context (`planContext` in `governor`): the provider's own count where it
 * offers one, else a real tokenizer's. Counted outside the sandbox and recorded, so replay never recounts.
 */
export async function countContextTokens(req: TokenCountRequest): Promise<TokenCount> {
  return local.countTokens(req);
}
