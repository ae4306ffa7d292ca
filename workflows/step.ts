import { stepId, type StepId } from '../contracts/ids.js';

/** How a step ended: a governed tool call's outcome, or a step of the workflow's own. */
export type StepStatus = 'running' | 'succeeded' | 'failed' | 'skipped' | 'denied' | 'rejected' | 'invalid_args';

/** One step of a run, as the `state` query shows it: the same shape in every governed workflow. */
export interface StepRecord {
  /** `name#ordinal`; with the workflow id it is the step's idempotency key. */
  readonly id: StepId;
  readonly name: string;
  /** The tool the step called, for a tool step. */
  readonly tool?: string;
  status: StepStatus;
  /** Model requests (transport retries included) or tool executions made for this step. */
  attempts: number;
  evidenceId?: string;
  detail?: string;
}

/** Appends the next step called `name` (its ordinal counts the earlier ones) and returns it, running. */
export function nextStep(steps: StepRecord[], name: string, tool?: string): StepRecord {
  const ordinal = steps.filter((s) => s.name === name).length + 1;
  const record: StepRecord = { id: stepId(name, ordinal), name, ...(tool ? { tool } : {}), status: 'running', attempts: 0 };
  steps.push(record);
  return record;
}
