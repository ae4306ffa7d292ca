/**
 * The yardstick for what governing costs: the same model call made by plain Temporal, one workflow scheduling one
 * activity with a retry policy and returning its answer. No validation, budgets, evidence or tools.
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { PlainActivities, PlainTicket } from './activities.js';

const { classify } = proxyActivities<PlainActivities>({
  startToCloseTimeout: '60s',
  retry: { maximumAttempts: 3 },
});

export async function plainClassify(event: PlainTicket): Promise<unknown> {
  return classify(event);
}

const { pass } = proxyLocalActivities<PlainActivities>({ startToCloseTimeout: '5s' });

/**
 * The shape a governed run adds to the same call, with nothing in it: a local activity before the model call (where a
 * governed run reads its controls, prompt pin and context) and one after (where it writes its decision with evidence),
 * each doing no work. What it costs over `plainClassify` is Temporal's own price for that shape on this machine.
 */
export async function plainClassifyWithLocalSteps(event: PlainTicket): Promise<unknown> {
  await pass('before');
  const answer = await classify(event);
  await pass('after');
  return answer;
}
