import { z } from 'zod';
import { SupportTicketCreated, type Customer, type Ticket } from './ticket.js';
import { Budgets, Duration, ModelRef, ReviewerId, ReviewSampling, type Ledger, type ReviewSamplingInput, type RolloutStage, type SamplingRecord, type WorkflowControls } from 'governor';
import type { StepRecord } from 'governor/workflow';

export const Category = z.enum(['billing', 'bug', 'sales', 'account', 'how_to', 'other']);
export type Category = z.infer<typeof Category>;
export const Urgency = z.enum(['low', 'medium', 'high']);
export type Urgency = z.infer<typeof Urgency>;

/** The classifier's structured output (prompt spec `support_ticket_classifier`). Strict: extra keys are errors. */
export const TicketClassification = z.strictObject({
  category: Category.describe('The ticket topic.'),
  urgency: Urgency.describe('How soon the customer needs an answer.'),
  confidence: z.number().min(0).max(1).describe('Confidence in the category and urgency, from 0 to 1.'),
  reason: z.string().max(300).describe('One or two sentences that justify the classification.'),
});
export type TicketClassification = z.infer<typeof TicketClassification>;

/** What a reviewer sends. `correct` carries the corrected labels; every decision names its reviewer. */
export const ReviewDecision = z.discriminatedUnion('action', [
  z.strictObject({
    action: z.literal('approve'),
    reviewerId: ReviewerId,
    note: z.string().max(500).optional(),
  }),
  z.strictObject({
    action: z.literal('reject'),
    reviewerId: ReviewerId,
    note: z.string().max(500).optional(),
  }),
  z.strictObject({
    action: z.literal('correct'),
    reviewerId: ReviewerId,
    corrected: z.strictObject({ category: Category, urgency: Urgency }),
    note: z.string().max(500).optional(),
  }),
]);
export type ReviewDecision = z.infer<typeof ReviewDecision>;

/**
 * Support's review sampling: account access and security changes are high stakes (a wrong label can lock a customer
 * out or let someone else in), so a person sees every one before it is applied. Billing is regulated: its reason is
 * scanned for a card number (a run of 13 to 19 digits, spaces or dashes allowed) and for a refund promised to the
 * customer, and a person sees it only when a scan flags. 2 % of the rest is graded after it was applied.
 */
export const SUPPORT_REVIEW_SAMPLING: ReviewSamplingInput = {
  highStakes: [{ field: 'category', in: ['account'] }],
  regulated: [
    {
      when: [{ field: 'category', in: ['billing'] }],
      scans: [
        { name: 'card_number', pattern: String.raw`(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)`, fields: ['reason'] },
        {
          name: 'refund_promise',
          pattern: String.raw`\b(?:will|shall|guarantee[sd]?|promise[sd]?)\b[^.]{0,60}\brefund\w*|\brefund\w*\b[^.]{0,40}\b(?:guaranteed|promised|will be (?:issued|made|sent|processed))`,
          fields: ['reason'],
        },
      ],
    },
  ],
  gradeRate: 0.02,
};

/** Per-run settings, resolved by the client at start and recorded in the run's input. */
export const TriageConfig = z.strictObject({
  confidenceThreshold: z.number().min(0).max(1).default(0.75),
  /** Reviewer ids allowed to decide this run; a decision from anyone else is refused. */
  reviewers: z.array(z.string().trim().min(1)).min(1, 'at least one reviewer is required').default(['usr_442']),
  reviewDeadline: Duration.default('24h'),
  /** Reminders to the reviewers before the review deadline, by lead time (`'1h'`: an hour before); none already past at the start. */
  reviewReminders: z.array(Duration).max(5, 'at most five reminders').default(['1h']),
  /** The model for a single-model run; `modelChain` takes precedence. */
  model: ModelRef.optional(),
  /** Models in order of preference, across providers: the next one answers when one fails (fallback chain). */
  modelChain: z.array(ModelRef).min(1, 'needs at least one model').max(4, 'at most four models').optional(),
  /** Start-to-close timeout of one model call attempt (the backstop behind the provider SDK's own timeout). */
  modelCallTimeout: Duration.default('60s'),
  /** Every bound of the run: attempts, repairs, calls, dollars, tokens, wall time. */
  budgets: Budgets.prefault({}),
  /** Which outputs a person sees first, which are scanned, and what share of the rest is graded. */
  sampling: ReviewSampling.prefault(SUPPORT_REVIEW_SAMPLING),
});
export type TriageConfig = z.infer<typeof TriageConfig>;
export type TriageConfigInput = z.input<typeof TriageConfig>;

export const TriageInput = z.strictObject({ event: SupportTicketCreated, config: TriageConfig });
export type TriageInput = z.infer<typeof TriageInput>;

export const Phase = {
  Received: 'received',
  LoadingContext: 'loading_context',
  Classifying: 'classifying',
  Repairing: 'repairing',
  Deciding: 'deciding',
  AwaitingReview: 'awaiting_review',
  Escalating: 'escalating',
  Applying: 'applying',
  Completed: 'completed',
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

/** How a run ended. */
export type Outcome =
  | 'auto_applied'
  | 'escalated'
  | 'approved'
  | 'corrected'
  | 'rejected'
  | 'review_expired_escalated';

export type ReviewReason =
  | 'low_confidence'
  | 'invalid_output'
  | 'model_unavailable'
  | 'model_refused'
  | 'budget_exceeded'
  /** Every model failed; the answer is one cached earlier for the same input, to be confirmed by a reviewer. */
  | 'cached_last_resort'
  /** The workflow is review-only (an SLO's breach action or the kill switch): the answer may be fine, a person applies it. */
  | 'review_only'
  /** The run's prompt is a candidate in `suggestion`: its output goes to a reviewer, never applied on its own. */
  | 'suggestion'
  /** The output is high stakes under the review sampling policy (account access): a person applies it. */
  | 'high_stakes'
  /** A regulated output a scan flagged (a card number, a refund promise): a person looks before it is applied. */
  | 'scan_flagged';

export interface TicketContext {
  readonly ticket: Ticket;
  readonly customer: Customer;
  /** The customer's previous triage decisions, newest first (at most five). */
  readonly history: ReadonlyArray<{ readonly ticketId: string; readonly category: string; readonly urgency: string; readonly decidedAt: string }>;
}

/** One step of a triage run: the kit's step shape, shared by every governed workflow. */
export type { StepRecord } from 'governor/workflow';

export interface ModelCallRecord {
  readonly round: number;
  /** The activity attempt that answered: 2 or more when transport failures were retried first. */
  readonly attempt: number;
  readonly model: string;
  readonly provider: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly latencyMs: number;
  readonly valid: boolean;
  readonly issues: string[];
}

export interface PendingReview {
  readonly reason: ReviewReason;
  readonly detail: string;
  readonly reviewers: readonly string[];
  readonly deadline: string;
  /** When reminders went to the reviewers (absent on runs begun before reminders). */
  reminded?: string[];
}

/** The snapshot returned by the `state` query. */
export interface TriageState {
  readonly workflowId: string;
  readonly eventId: string;
  readonly ticketId: string;
  phase: Phase;
  /** The prompt the run pinned at its start; `hash` is its registry content hash (null: a run from before the registry). */
  prompt: { name: string; version: string; model: string; provider: string; temperature: number; hash?: string | null } | null;
  classification: TicketClassification | null;
  modelCalls: ModelCallRecord[];
  steps: StepRecord[];
  pendingReview: PendingReview | null;
  review: { reviewerId: string; action: ReviewDecision['action']; note?: string } | null;
  outcome: Outcome | null;
  evidenceIds: string[];
  /** The run's budgets as resolved at start, and what has been spent against them. */
  budgets: Budgets;
  ledger: Ledger;
  /** Which model answered, and why the others were skipped. */
  modelTrail: Array<{ model: string; provider: string; event: string; detail: string }>;
  /** Signals that failed validation, kept so a sender can see why nothing happened. */
  rejectedSignals: string[];
  /** The controls the run read at its start (null before it read them, or for a run begun before controls existed). */
  controls: WorkflowControls | null;
  /** The rollout the run fell into, pinned at its start: which version decided, and whether it was in the share. */
  rollout: {
    stage: RolloutStage;
    share: number;
    candidateVersion: string;
    inShare: boolean;
    decidedBy: 'candidate' | 'production';
    productionVersion: string;
  } | null;
  /** What the shadowing candidate answered, beside production's decision. */
  shadow: { version: string; status: string; classification: TicketClassification | null; agrees: boolean } | null;
  /**
   * How review sampling routed the output (high stakes, scanned, drawn for grading); null when the model gave no
   * output, or for a run begun before sampling existed.
   */
  sampling: SamplingRecord | null;
}

export interface TriageResult {
  readonly workflowId: string;
  readonly outcome: Outcome;
  readonly category: Category | null;
  readonly urgency: Urgency | null;
  readonly confidence: number | null;
  readonly reviewReason: ReviewReason | null;
  readonly reviewerId: string | null;
  readonly evidenceIds: string[];
  readonly prompt: { name: string; version: string; model: string; hash?: string | null };
}
