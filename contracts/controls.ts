/**
 * Operational controls of a workflow type, set by SLO breach actions (or a person) and read by each run once, at its
 * start: a run keeps what it read, so a control changing mid-run changes nothing for that run.
 */
export interface WorkflowControls {
  /** Every new run goes to a person before anything is applied. */
  readonly reviewOnly: boolean;
  /** New runs skip the first model of their chain. */
  readonly fallbackChain: boolean;
  /** No new prompt version may be promoted. */
  readonly rolloutFrozen: boolean;
}

export const NORMAL_CONTROLS: WorkflowControls = { reviewOnly: false, fallbackChain: false, rolloutFrozen: false };
