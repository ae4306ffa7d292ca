import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { durationMs } from '../../../workflows/duration.js';
import type { Activities } from '../../../activities/index.js';
import { ReviewRejection } from '../../../contracts/failures.js';
import { formatIssues, issuesFrom } from '../../../contracts/issues.js';
import { idempotencyKey, stepId, type StepId, type WorkflowId } from '../../../contracts/ids.js';
import type { ModelRef } from '../../../contracts/model.js';
import {
  Phase,
  ReviewDecision,
  TicketClassification,
  type Outcome,
  type ReviewReason,
  type StepRecord,
  type TicketContext,
  type TriageInput,
  type TriageResult,
  type TriageState,
} from '../contracts/triage.js';
import { classifierJsonSchema, renderClassifierMessages, renderRepairMessages, supportTicketClassifier as spec } from '../prompts/support-ticket-classifier.js';
import { reviewSignal, reviewUpdate, searchAttributes, stateQuery, type ReviewAccepted } from '../definitions.js';
import { emptyLedger } from '../../../workflows/ledger.js';
import { governedModelStep, stepPrompt, LOCAL_READS_PATCH, resolveVersionsUpfront } from '../../../workflows/model-step.js';
import type { BusinessRule } from '../../../workflows/validate.js';
import { Budgets } from '../../../contracts/budget.js';

/** Context reads are cheap and idempotent: retry a little more, fail fast on each attempt. */
const context = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 5 },
});

/**
 * The same read as a local activity: it runs on the worker inside the current workflow task, so it costs no round
 * trip through the server. It is a millisecond query on the worker's own store; a retry repeats nothing.
 */
const localContext = proxyLocalActivities<Activities>({
  startToCloseTimeout: '5s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 5 },
});

/** Marks runs that write the triage decision with a local activity; older runs keep the regular one on replay. */
export const LOCAL_DECISION_WRITE_PATCH = 'local-decision-write';

/**
 * Tool executions: safe to retry because every call carries an idempotency key the tool dedupes on; 5 attempts
 * over about a minute ride out a database restart.
 */
const tools = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
});

/**
 * The decision write as a local activity, with the same bounds. A local activity is at least once like a regular
 * one (a worker lost mid-task runs it again), and the tool dedupes on its idempotency key, so the effect still
 * happens once. What it gives up: its attempts are not history events of their own (the marker records the result
 * and the attempt count). The escalation tool stays a regular activity: it is off the common path.
 */
const localTools = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
});

const rules: ReadonlyArray<BusinessRule<TicketClassification>> = [
  {
    id: 'reason-not-blank',
    check: (c) => (c.reason.trim().length === 0 ? { field: 'reason', rule: 'must explain the classification' } : null),
  },
];

/** `support_ticket.created` → classify → validate → (repair) → review or apply → escalate if urgent billing. */
export async function supportTicketTriage(input: TriageInput): Promise<TriageResult> {
  // First, before any local activity: which versioned behaviours this run uses (see `StepVersions`).
  const versions = resolveVersionsUpfront();
  const { event, config } = input;
  const workflowId = workflowInfo().workflowId as WorkflowId;
  const chain: ModelRef[] = config.modelChain ?? [config.model ?? { provider: 'anthropic', model: spec.models.anthropic }];
  const modelRef = chain[0]!;
  // Inputs recorded before budgets existed carry none: parse resolves every default (pure code, safe in a workflow).
  const budgets: Budgets = Budgets.parse(config.budgets ?? {});

  const state: TriageState = {
    workflowId,
    eventId: event.event_id,
    ticketId: event.ticket.id,
    phase: Phase.Received,
    prompt: { name: spec.name, version: spec.version, model: modelRef.model, provider: modelRef.provider, temperature: spec.temperature },
    classification: null,
    modelCalls: [],
    steps: [],
    pendingReview: null,
    review: null,
    outcome: null,
    evidenceIds: [],
    rejectedSignals: [],
    budgets,
    ledger: emptyLedger(),
    modelTrail: [],
  };
  let decision: ReviewDecision | null = null;

  setHandler(stateQuery, () => state);

  /** Why a decision cannot be taken now, or null if it can. Shared by the update validator and the signal. */
  const refusal = (raw: unknown): { type: ReviewRejection; message: string } | null => {
    const parsed = ReviewDecision.safeParse(raw);
    if (!parsed.success) {
      return { type: ReviewRejection.InvalidDecision, message: formatIssues(issuesFrom(parsed.error)) };
    }
    if (decision !== null) return { type: ReviewRejection.AlreadyDecided, message: `already decided by ${decision.reviewerId}` };
    if (state.phase !== Phase.AwaitingReview || state.pendingReview === null) {
      return { type: ReviewRejection.NotAwaitingReview, message: `run is ${state.phase}, not awaiting review` };
    }
    if (!state.pendingReview.reviewers.includes(parsed.data.reviewerId)) {
      return { type: ReviewRejection.NotAuthorised, message: `${parsed.data.reviewerId} is not a reviewer for this run` };
    }
    if (parsed.data.action === 'approve' && state.classification === null) {
      return { type: ReviewRejection.InvalidDecision, message: 'nothing to approve: the model gave no valid classification; correct or reject' };
    }
    return null;
  };

  setHandler(
    reviewUpdate,
    (raw): ReviewAccepted => {
      const d = ReviewDecision.parse(raw);
      decision = d;
      return { status: 'accepted', action: d.action, reviewerId: d.reviewerId };
    },
    {
      // Runs before the update is written to history: a refused decision leaves the run exactly as it was.
      validator: (raw) => {
        const why = refusal(raw);
        if (why) throw ApplicationFailure.create({ type: why.type, message: why.message, nonRetryable: true });
      },
    },
  );

  setHandler(reviewSignal, (raw) => {
    const why = refusal(raw);
    if (why) {
      state.rejectedSignals.push(`${why.type}: ${why.message}`);
      return;
    }
    decision = ReviewDecision.parse(raw);
  });

  const enter = (phase: Phase) => {
    state.phase = phase;
    upsertSearchAttributes([
      { key: searchAttributes.phase, value: phase },
      { key: searchAttributes.awaitingReview, value: phase === Phase.AwaitingReview },
    ]);
  };
  upsertSearchAttributes([{ key: searchAttributes.promptVersion, value: `${spec.name}@${spec.version}` }]);

  const step = (name: string): StepRecord => {
    const ordinal = state.steps.filter((s) => s.name === name).length + 1;
    const record: StepRecord = { id: stepId(name, ordinal), name, status: 'running', attempts: 0 };
    state.steps.push(record);
    return record;
  };

  // 1. Context.
  enter(Phase.LoadingContext);
  const contextStep = step('load_context');
  contextStep.attempts = 1;
  // Runs recorded before local reads loaded context with a regular activity and replay that way.
  const ctx: TicketContext = (versions ? versions.localReads : patched(LOCAL_READS_PATCH)) ? await localContext.loadTicketContext(event) : await context.loadTicketContext(event);
  contextStep.status = 'succeeded';

  // 2. Classify through the governed model step: fallback chain, validation, bounded repair, budgets, cache.
  enter(Phase.Classifying);
  const classify = step('classify');
  let reviewReason: ReviewReason | null = null;
  let reviewDetail = '';
  const classified = await governedModelStep({
    step: 'classify',
    prompt: stepPrompt(spec, classifierJsonSchema),
    schema: TicketClassification,
    rules,
    messages: renderClassifierMessages(ctx),
    repair: (messages, reply, issues) => {
      enter(Phase.Repairing);
      return renderRepairMessages(messages, reply, issues);
    },
    chain,
    budgets,
    ledger: state.ledger,
    versions,
    confidence: { of: (c) => c.confidence, threshold: config.confidenceThreshold },
    callTimeout: (config.modelCallTimeout ?? '60s') as Duration,
    onCall: (reply, valid, issues) => {
      state.modelCalls.push({
        round: state.modelCalls.length,
        model: reply.model.model,
        provider: reply.model.provider,
        inputTokens: reply.usage.inputTokens,
        outputTokens: reply.usage.outputTokens,
        latencyMs: reply.latencyMs,
        valid,
        issues,
      });
    },
  });
  classify.attempts = state.modelCalls.length;
  state.modelTrail.push(...classified.trail);
  if (classified.status === 'ok') {
    state.classification = classified.value;
  } else if (classified.status === 'needs_review') {
    // A low-confidence or last-resort cached answer is kept: the reviewer sees it and may approve it as it is.
    state.classification = classified.value;
    reviewReason = classified.reason;
    reviewDetail = classified.detail;
  } else {
    reviewReason = classified.status === 'refused' ? 'model_refused' : classified.status === 'budget_exceeded' ? 'budget_exceeded' : 'model_unavailable';
    reviewDetail = classified.detail;
  }
  classify.status = state.classification ? 'succeeded' : 'failed';
  if (!state.classification) classify.detail = reviewDetail;

  enter(Phase.Deciding);
  const classification = state.classification;
  if (classification) {
    upsertSearchAttributes([
      { key: searchAttributes.category, value: classification.category },
      { key: searchAttributes.urgency, value: classification.urgency },
    ]);
  }

  const escalate = async (reason: 'urgent_billing' | 'review_deadline_passed') => {
    enter(Phase.Escalating);
    const s = step('create_escalation');
    s.attempts = 1;
    const evidence = await tools.createEscalation({
      workflowId,
      stepId: s.id,
      idempotencyKey: idempotencyKey(workflowId, s.id as StepId),
      ticketId: event.ticket.id,
      customerId: event.customer.id,
      reason,
      priority: reason === 'urgent_billing' ? 'high' : 'normal',
    });
    s.status = 'succeeded';
    s.evidenceId = evidence.evidenceId;
    state.evidenceIds.push(evidence.evidenceId);
  };

  const finish = async (): Promise<TriageResult> => {
    enter(Phase.Completed);
    // Let an update that is still being answered finish before the run closes.
    await condition(allHandlersFinished);
    const final = state.outcome ?? 'rejected';
    const labels = decision?.action === 'correct' ? decision.corrected : state.classification;
    return {
      workflowId,
      outcome: final,
      category: final === 'rejected' || final === 'review_expired_escalated' ? null : (labels?.category ?? null),
      urgency: final === 'rejected' || final === 'review_expired_escalated' ? null : (labels?.urgency ?? null),
      confidence: state.classification?.confidence ?? null,
      reviewReason,
      reviewerId: decision?.reviewerId ?? null,
      evidenceIds: [...state.evidenceIds],
      prompt: { name: spec.name, version: spec.version, model: modelRef.model },
    };
  };

  // 3. Review when the output cannot be trusted as is.
  let labels = classification ? { category: classification.category, urgency: classification.urgency } : null;
  let outcome: Outcome = 'auto_applied';
  let decidedBy = `model:${modelRef.model}`;
  if (reviewReason !== null) {
    state.pendingReview = {
      reason: reviewReason,
      detail: reviewDetail,
      reviewers: config.reviewers,
      // Workflow time, not the wall clock: the sandbox replaces Date with the time of the current workflow task.
      deadline: new Date(new Date().getTime() + durationMs(config.reviewDeadline as Duration)).toISOString(),
    };
    enter(Phase.AwaitingReview);
    const decided = await condition(() => decision !== null, config.reviewDeadline as Duration);
    state.pendingReview = null;
    // Handlers assign `decision`; TypeScript cannot see that across the await, hence the explicit type.
    const d = decision as ReviewDecision | null;
    if (!decided || d === null) {
      await escalate('review_deadline_passed');
      state.outcome = 'review_expired_escalated';
      return finish();
    }
    state.review = { reviewerId: d.reviewerId, action: d.action, note: d.note };
    if (d.action === 'reject') {
      state.outcome = 'rejected';
      return finish();
    }
    labels = d.action === 'correct' ? d.corrected : labels;
    outcome = d.action === 'correct' ? 'corrected' : 'approved';
    decidedBy = `reviewer:${d.reviewerId}`;
  }
  if (labels === null) throw ApplicationFailure.nonRetryable('no labels to apply', 'InternalInvariant');

  // 4. Apply, then escalate urgent billing. Both are tools with evidence; the outcome is reported from evidence.
  enter(Phase.Applying);
  const apply = step('apply_triage_decision');
  apply.attempts = 1;
  const urgentBilling = labels.category === 'billing' && labels.urgency === 'high';
  const applyDecision = (versions !== undefined || patched(LOCAL_DECISION_WRITE_PATCH)) ? localTools.applyTriageDecision : tools.applyTriageDecision;
  const applied = await applyDecision({
    workflowId,
    stepId: apply.id,
    idempotencyKey: idempotencyKey(workflowId, apply.id as StepId),
    eventId: event.event_id,
    ticketId: event.ticket.id,
    customerId: event.customer.id,
    category: labels.category,
    urgency: labels.urgency,
    outcome: urgentBilling && outcome === 'auto_applied' ? 'escalated' : outcome,
    decidedBy,
    promptVersion: spec.version,
    model: modelRef.model,
  });
  apply.status = applied.status === 'success' ? 'succeeded' : 'failed';
  apply.evidenceId = applied.evidenceId;
  state.evidenceIds.push(applied.evidenceId);
  if (urgentBilling) await escalate('urgent_billing');
  state.outcome = urgentBilling && outcome === 'auto_applied' ? 'escalated' : outcome;
  return finish();
}
