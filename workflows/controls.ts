import { log, patched, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { NORMAL_CONTROLS, type WorkflowControls } from '../contracts/controls.js';
import type { ModelRef } from '../contracts/model.js';
import type { Read } from './reads.js';

/** A millisecond read on the worker's own store: a local activity, recorded once as a marker. */
const { workflowControls } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '5s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '2s', maximumAttempts: 5 },
});

/**
 * The controls in force for this workflow type (`review_only`, `fallback_chain`, `freeze_rollout`, set by SLO breach
 * actions), read once at the run's start and kept in its history. Runs begun before controls existed replay without
 * reading them (a version marker; `known: true` when the caller's own patch already says this run reads them, so no
 * second marker is written). Controls are a brake, not a gate: when the store cannot answer after the local
 * activity's attempts, the run goes on under normal controls and says so in its log.
 */
export async function readWorkflowControls(options: { readonly known?: boolean } = {}): Promise<WorkflowControls> {
  if (!options.known && !patched('governor-workflow-controls')) return NORMAL_CONTROLS;
  try {
    return await workflowControls(workflowInfo().workflowType);
  } catch (err) {
    return unreadable((err as Error).message);
  }
}

/** The controls as one read of several (`readTogether`), with the same brake: unreadable means normal controls. */
export function controlsRead(): Read<WorkflowControls> {
  return {
    activity: 'workflowControls',
    args: [workflowInfo().workflowType],
    settle: (outcome) => (outcome.ok ? (outcome.value as WorkflowControls) : unreadable(outcome.error.message)),
  };
}

function unreadable(error: string): WorkflowControls {
  log.warn('workflow controls unreadable; running under normal controls', { error });
  return NORMAL_CONTROLS;
}

/** The model chain under the controls: `fallbackChain` starts at the second model, when there is one. */
export function chainUnder(controls: WorkflowControls, chain: readonly ModelRef[]): ModelRef[] {
  return controls.fallbackChain && chain.length > 1 ? chain.slice(1) : [...chain];
}
