/**
 * The support workflows' messages (queries, updates, signals) and search attributes: what the workflow code itself
 * needs from the domain's definitions. Kept apart from the descriptors (`definitions.ts`, which the client, the CLI
 * and the console read) because every new workflow run evaluates the modules it imports: the descriptors would bring
 * every workflow's trigger contracts and prompts into every run.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AgentState } from 'governor/workflow';
import type { ApprovalDecision, ComplaintState, HumanResolution, PendingApproval } from './contracts/complaint.js';
import type { HandoffState } from './contracts/handoff.js';
import type { ReviewDecision, TriageState } from './contracts/triage.js';
import type { AgentGuidance } from './contracts/agent.js';
import type { DocumentState } from './contracts/document.js';

/** Keys the support workflows add to Governor's own (phase, awaiting review, prompt version). */
export const supportSearchAttributes = {
  category: defineSearchAttributeKey('GovernorCategory', SearchAttributeType.KEYWORD),
  urgency: defineSearchAttributeKey('GovernorUrgency', SearchAttributeType.KEYWORD),
} as const;

/* ---- supportTicketTriage ---- */

export const stateQuery = defineQuery<TriageState>('state');

export interface ReviewAccepted {
  readonly status: 'accepted';
  readonly action: ReviewDecision['action'];
  readonly reviewerId: string;
}

/** A reviewer's decision on a classification: accepted, or refused with the reason (see `DecisionGate`). */
export const reviewUpdate = defineUpdate<ReviewAccepted, [ReviewDecision]>('review');

/**
 * The same decision as a signal, for senders that cannot wait for an answer (queues, webhooks). It is validated
 * inside the workflow the same way; an invalid one is recorded in `state.rejectedSignals` and changes nothing else.
 */
export const reviewSignal = defineSignal<[ReviewDecision]>('reviewDecision');

/* ---- complaintEscalation ---- */

export const complaintStateQuery = defineQuery<ComplaintState>('state');

export interface ApprovalAccepted {
  readonly status: 'accepted';
  readonly stepId: string;
  readonly approved: boolean;
  readonly reviewerId: string;
}

/** Approving a held action is an update: the approver learns at once whether it counted (and why not). */
export const approvalUpdate = defineUpdate<ApprovalAccepted, [ApprovalDecision]>('approveAction');

/** Closing what the run escalated to a human; an update for the same reason. */
export const resolveUpdate = defineUpdate<{ readonly status: 'accepted'; readonly reviewerId: string }, [HumanResolution]>('resolve');

/* ---- supportAgent ---- */

/** A support agent's run: its agent state (turns, context plan, spend, stop) and any held action. */
export interface SupportAgentState {
  readonly workflowId: string;
  /** This run; `agent.previousRuns` lists the runs it continued from. */
  readonly runId: string;
  readonly ticketId: string;
  readonly agent: AgentState;
  pendingApprovals: PendingApproval[];
  /** While the agent waits for a person's guidance (it kept looping): why, who may guide it, until when. */
  awaitingGuidance: { reason: string; guides: readonly string[]; deadline: string } | null;
}

export const agentStateQuery = defineQuery<SupportAgentState>('state');

export interface AgentApprovalAccepted {
  readonly status: 'accepted';
  readonly stepId: string;
  readonly approved: boolean;
  readonly reviewerId: string;
}

export const agentApprovalUpdate = defineUpdate<AgentApprovalAccepted, [ApprovalDecision]>('approveAction');

export const agentGuideUpdate = defineUpdate<{ readonly status: 'accepted'; readonly reviewerId: string }, [AgentGuidance]>('guide');

/* ---- documentPipeline ---- */

export const documentStateQuery = defineQuery<DocumentState>('state');

/* ---- agentHandoff ---- */

export const handoffStateQuery = defineQuery<HandoffState>('state');
