import { z } from 'zod';
import type { EvidenceSummary, StepRecord } from 'governor/workflow';
import { Budgets, Duration, id, ModelRef, parseContract, ReviewerId, type EvidenceDigest, type Ledger, type WorkflowControls } from 'governor';
import { Customer } from './ticket.js';

/** Trigger contract `complaint.received`, schema version 1. Strict like every contract: unknown fields are errors. */
export const COMPLAINT_RECEIVED = 'complaint.received';

export const Complaint = z.strictObject({
  id: id('cmp'),
  ticket_id: id('tkt'),
  subject: z.string().trim().min(1, 'must not be empty').max(300, 'must be at most 300 characters'),
  body: z.string().trim().min(1, 'must not be empty').max(20_000, 'must be at most 20000 characters'),
  channel: z.enum(['email', 'chat', 'web', 'phone', 'api']),
});
export type Complaint = z.infer<typeof Complaint>;

export const ComplaintReceived = z.strictObject({
  event: z.literal(COMPLAINT_RECEIVED),
  schema_version: z.literal(1).default(1),
  event_id: id('evt'),
  created_at: z.iso.datetime({ offset: true, message: 'must be an ISO-8601 timestamp' }),
  complaint: Complaint,
  customer: Customer,
});
export type ComplaintReceived = z.infer<typeof ComplaintReceived>;

export function parseComplaintEvent(input: unknown) {
  return parseContract(ComplaintReceived, COMPLAINT_RECEIVED, input);
}

/** One action the model proposes: a registry tool and its arguments (a JSON object, as text, so every provider's strict mode accepts the schema). */
export const ProposedAction = z.strictObject({
  tool: z.string().describe('A tool name from the list in the prompt.'),
  args: z.string().describe("The tool's arguments as a JSON object."),
  why: z.string().max(300).describe('Why this action is needed.'),
});
export type ProposedAction = z.infer<typeof ProposedAction>;

/** The decider's structured output (prompt spec `complaint_escalation_decider`). */
export const ComplaintDecision = z.strictObject({
  escalate: z.boolean().describe('Whether the complaint needs the escalation team.'),
  severity: z.enum(['low', 'medium', 'high', 'critical']),
  reason: z.string().min(1).max(500).describe('Why, in one or two sentences.'),
  actions: z.array(ProposedAction).max(5).describe('Tool calls to make, in order. Empty when nothing should be done.'),
  reply: z.string().max(2000).describe('What you would tell the customer-support agent about this complaint.'),
  confidence: z.number().min(0).max(1),
});
export type ComplaintDecision = z.infer<typeof ComplaintDecision>;

/** The actor the policy knows the complaint agent as; the policy says which workflow types may act as it. */
export const COMPLAINT_ACTOR = 'agent:complaint-triager';

export const ComplaintConfig = z.strictObject({
  /**
   * Who may resolve what the run escalates to a human. (Who may approve a held *action* is the policy's
   * `approval.approvers`: an authority over effects is not something a run's starter can grant itself.)
   */
  approvers: z.array(z.string().trim().min(1)).min(1).default(['usr_442']),
  approvalDeadline: Duration.default('24h'),
  /** How long a denied or unreviewable run waits for a human before closing as unresolved. */
  humanDeadline: Duration.default('72h'),
  confidenceThreshold: z.number().min(0).max(1).default(0.6),
  modelChain: z.array(ModelRef).min(1).max(4).optional(),
  modelCallTimeout: Duration.default('60s'),
  budgets: Budgets.prefault({}),
  /** How long a write waits for another owner of its resource before it is refused. */
  leaseWait: Duration.default('2m'),
  leaseTtl: Duration.default('5m'),
});
export type ComplaintConfig = z.infer<typeof ComplaintConfig>;
export type ComplaintConfigInput = z.input<typeof ComplaintConfig>;

export const ComplaintInput = z.strictObject({ event: ComplaintReceived, config: ComplaintConfig });
export type ComplaintInput = z.infer<typeof ComplaintInput>;

export const ComplaintPhase = {
  Received: 'received',
  Reading: 'reading',
  Deciding: 'deciding',
  Acting: 'acting',
  AwaitingApproval: 'awaiting_approval',
  AwaitingHuman: 'awaiting_human',
  Completed: 'completed',
} as const;
export type ComplaintPhase = (typeof ComplaintPhase)[keyof typeof ComplaintPhase];

/** One line of the run's summary, built from an evidence record (or its absence), never from the model's words. */
/** The run's summary from evidence (see `summarizeFromEvidence`), with whether the escalation email went out. */
export interface ComplaintSummary extends Omit<EvidenceSummary, 'lines'> {
  readonly escalationEmailSent: boolean;
  readonly text: string;
}

export interface PendingApproval {
  readonly stepId: string;
  readonly tool: string;
  readonly args: unknown;
  readonly rule: string;
  readonly reason: string;
  readonly approvers: readonly string[];
  readonly deadline: string;
}

export interface HumanTask {
  readonly reason: 'permission_denied' | 'approval_rejected' | 'tool_failed' | 'needs_review';
  readonly detail: string;
  readonly stepId: string | null;
}

export interface Checkpoint {
  readonly name: string;
  readonly at: string;
  readonly data: Readonly<Record<string, string | number | boolean | null>>;
}

export type ComplaintOutcome = 'completed' | 'resolved_by_human' | 'unresolved';

export interface ComplaintState {
  readonly workflowId: string;
  readonly complaintId: string;
  readonly ticketId: string;
  phase: ComplaintPhase;
  prompt: { name: string; version: string } | null;
  decision: ComplaintDecision | null;
  steps: StepRecord[];
  evidence: EvidenceDigest[];
  pendingApprovals: PendingApproval[];
  humanTasks: HumanTask[];
  /** While the run waits for a person to resolve its human tasks: who may, and until when (null otherwise). */
  humanWait?: { approvers: readonly string[]; deadline: string } | null;
  resolution: { reviewerId: string; note?: string } | null;
  checkpoints: Checkpoint[];
  budgets: Budgets;
  ledger: Ledger;
  modelTrail: Array<{ model: string; provider: string; event: string; detail: string }>;
  summary: ComplaintSummary | null;
  outcome: ComplaintOutcome | null;
  /** The controls the run read before its first step (null before, or for a run begun before controls existed). */
  controls: WorkflowControls | null;
}

export interface ComplaintResult {
  readonly workflowId: string;
  readonly outcome: ComplaintOutcome;
  readonly summary: ComplaintSummary;
  readonly evidenceIds: string[];
}

/** A human's answer to a held action. */
export const ApprovalDecision = z.strictObject({
  stepId: z.string().min(1).max(200, 'stepId is at most 200 characters'),
  approved: z.boolean(),
  reviewerId: ReviewerId,
  note: z.string().max(500).optional(),
});
export type ApprovalDecision = z.infer<typeof ApprovalDecision>;

/** A human closing what was escalated to them (a denial, a failed tool, an unreviewable decision). */
export const HumanResolution = z.strictObject({
  reviewerId: ReviewerId,
  note: z.string().max(1000).optional(),
});
export type HumanResolution = z.infer<typeof HumanResolution>;
