/**
 * Message definitions, search attribute keys and the task queue: defined once, imported by workflows, the client,
 * workers and tests. (Kept apart from `index.ts`, which exports workflow functions only, because that is what the
 * worker bundles.)
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { ApprovalDecision, ComplaintState, HumanResolution } from './contracts/complaint.js';
import type { HandoffState } from '../../contracts/handoff.js';
import type { ReviewDecision, TriageState } from './contracts/triage.js';

/** One task queue for every Governor workflow (the name predates the others; renaming it would strand running workflows). */
export const TASK_QUEUE = 'governor-triage';

export const stateQuery = defineQuery<TriageState>('state');

export interface ReviewAccepted {
  readonly status: 'accepted';
  readonly action: ReviewDecision['action'];
  readonly reviewerId: string;
}

/**
 * Review decisions are an update: the reviewer waits for an answer (accepted, or refused with the reason: invalid,
 * not authorised, already decided), and a refused update leaves no trace in history.
 */
export const reviewUpdate = defineUpdate<ReviewAccepted, [ReviewDecision]>('review');

/**
 * The same decision as a signal, for senders that cannot wait for an answer (queues, webhooks). It is validated
 * inside the workflow the same way; an invalid one is recorded in `state.rejectedSignals` and changes nothing else.
 */
export const reviewSignal = defineSignal<[ReviewDecision]>('reviewDecision');

export const searchAttributes = {
  phase: defineSearchAttributeKey('GovernorPhase', SearchAttributeType.KEYWORD),
  awaitingReview: defineSearchAttributeKey('GovernorAwaitingReview', SearchAttributeType.BOOL),
  category: defineSearchAttributeKey('GovernorCategory', SearchAttributeType.KEYWORD),
  urgency: defineSearchAttributeKey('GovernorUrgency', SearchAttributeType.KEYWORD),
  promptVersion: defineSearchAttributeKey('GovernorPromptVersion', SearchAttributeType.KEYWORD),
} as const;

/** Every custom search attribute, for registering them with a server. */
export const allSearchAttributeKeys = Object.values(searchAttributes);

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

/* ---- agent handoff ---- */

export const handoffStateQuery = defineQuery<HandoffState>('state');
