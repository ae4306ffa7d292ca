import type { EventId, WorkflowId } from 'governor';

/**
 * Workflow ids derive from the trigger's event id, so a duplicate event can only ever address the run that the
 * first delivery started (idempotent start).
 */
export function triageWorkflowId(id: EventId): WorkflowId {
  return `triage/${id}` as WorkflowId;
}

/** Complaint runs, like triage runs, are addressed by their trigger's event id. */
export function complaintWorkflowId(id: EventId): WorkflowId {
  return `complaint/${id}` as WorkflowId;
}

export function handoffWorkflowId(taskId: string): WorkflowId {
  return `handoff/${taskId}` as WorkflowId;
}


export function agentWorkflowId(id: EventId): WorkflowId {
  return `agent/${id}` as WorkflowId;
}

export function documentWorkflowId(id: EventId): WorkflowId {
  return `document/${id}` as WorkflowId;
}
