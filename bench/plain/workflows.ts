/**
 * The yardstick for what governing costs: the same model call made by plain Temporal, one workflow scheduling one
 * activity with a retry policy and returning its answer. No validation, budgets, evidence or tools.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { PlainActivities, PlainTicket } from './activities.js';

const { classify } = proxyActivities<PlainActivities>({
  startToCloseTimeout: '60s',
  retry: { maximumAttempts: 3 },
});

export async function plainClassify(event: PlainTicket): Promise<unknown> {
  return classify(event);
}
