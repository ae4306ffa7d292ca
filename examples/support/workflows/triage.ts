import { ApplicationFailure, allHandlersFinished, condition, patched, proxyActivities, proxyLocalActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Duration, SearchAttributeUpdatePair } from '@temporalio/common';
import { Budgets, FailureType, idempotencyKey, ReviewSampling, type ModelRef, type PinnedRun, type StepId, type WorkflowControls, type WorkflowId } from 'governor';
import {
  DecisionGate,
  deadlineAfter,
  emptyLedger,
  governedModelStep,
  governorSearchAttributes,
  kitMetrics,
  nextStep,
  codePinned,
  pinRun,
  queueForGrading,
  readWorkflowControls,
  readOf,
  readTogether,
  controlsRead,
  pinRead,
  recordReviewDecision,
  routeThisRun,
  SearchAttributeBatch,
  stepPromptOf,
  chainUnder,
  type BusinessRule,
  type DecisionReminders,
} from 'governor/workflow';
import type { Activities, ToolRequest } from 'governor/worker';
import type { SupportActivities } from '../activities.js';
import {
  Phase,
  ReviewDecision,
  SUPPORT_REVIEW_SAMPLING,
  TicketClassification,
  type Outcome,
  type PendingReview,
  type ReviewReason,
  type StepRecord,
  type TicketContext,
  type TriageInput,
  type TriageResult,
  type TriageState,
} from '../contracts/triage.js';
import { classifierRecord, renderClassifierMessages, renderRepairMessages, supportTicketClassifier as spec } from '../prompts/support-ticket-classifier.js';
import { reviewSignal, reviewUpdate, stateQuery, supportSearchAttributes, type ReviewAccepted } from '../messages.js';

/** The one decision a triage run waits for, by its key in the gate. */
const REVIEW = 'review';

/**
 * The patch a triage run begun on this release records: it stands for every change of `TRIAGE_RELEASE_2` and the
 * opening reads asked as one local activity (`readTogether`). The next release adds its own in front.
 */
export const TRIAGE_RELEASE = 'support-triage-2026-11-23.3';

/**
 * The release before that: it stands for every change of `TRIAGE_RELEASE_1`, the response cache read and written by the
 * model call itself (`cacheInCall`) and search attributes written once per workflow task.
 */
export const TRIAGE_RELEASE_2 = 'support-triage-2026-11-23.2';

/**
 * The release before: it stands for `support-prompt-registry`, `support-review-sampling`, `support-review-records`,
 * `support-review-reminders`, `governor-workflow-controls` and the opening reads issued together.
 */
export const TRIAGE_RELEASE_1 = 'support-triage-2026-11-23';

/** The actor the policy knows the triage workflow as. */
export const TRIAGE_ACTOR = 'workflow:supportTicketTriage';

/**
 * The context read as a local activity: it runs on the worker inside the current workflow task, so it costs no
 * round trip through the server. It is a millisecond query on the worker's own store; a retry repeats nothing.
 */
/** The support activities a run may read together with Governor's (declared reads on the worker). */
const read = readOf<SupportActivities>();

const localContext = proxyLocalActivities<SupportActivities>({
  startToCloseTimeout: '5s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 5 },
});

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
  const { event, config } = input;
  const workflowId = workflowInfo().workflowId as WorkflowId;
  const configuredChain: ModelRef[] = config.modelChain ?? [config.model ?? { provider: 'anthropic', model: spec.models.anthropic }];
  // An input that names no model (a start that bypassed the config's validation) fails the run for good, at once.
  if (configuredChain.length === 0) throw ApplicationFailure.nonRetryable('the model chain is empty: name at least one model', FailureType.InvalidConfig);
  // Inputs recorded before budgets existed carry none: parse resolves every default (pure code, safe in a workflow).
  const budgets: Budgets = Budgets.parse(config.budgets ?? {});

  const state: TriageState = {
    workflowId,
    eventId: event.event_id,
    ticketId: event.ticket.id,
    phase: Phase.Received,
    prompt: null,
    controls: null,
    rollout: null,
    shadow: null,
    sampling: null,
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

  setHandler(stateQuery, () => state);

  // One gate for the review: the update's validator and the signal refuse the same way (invalid, already decided,
  // not awaiting review, not a reviewer of this run, nothing to approve).
  const gate = new DecisionGate<ReviewDecision, ReviewAccepted, PendingReview>({
    update: reviewUpdate,
    signal: reviewSignal,
    schema: ReviewDecision,
    keyOf: () => REVIEW,
    reviewerOf: (d) => d.reviewerId,
    accept: (d) => ({ status: 'accepted', action: d.action, reviewerId: d.reviewerId }),
    check: (d) => (d.action === 'approve' && state.classification === null ? 'nothing to approve: the model gave no valid classification; correct or reject' : null),
    describe: {
      notAuthorised: (reviewer) => `${reviewer} is not a reviewer for this run`,
      notAwaiting: () => `run is ${state.phase}, not awaiting review`,
    },
    onRejectedSignal: (reason) => state.rejectedSignals.push(reason),
  });
  const decision = (): ReviewDecision | null => gate.decided(REVIEW) ?? null;

  const step = (name: string): StepRecord => nextStep(state.steps, name);

  // Versioning. Every patch is asked here, before any local activity: a patch marker recorded after a local-activity
  // marker breaks replay of the finished run. A run begun on this release records one patch that stands for every
  // change below (each patch costs a marker and a search-attribute upsert in every run); runs begun before it replay
  // through the patches they recorded, asked in the same order as when they ran.
  const current = patched(TRIAGE_RELEASE);
  const release2 = current || patched(TRIAGE_RELEASE_2);
  const release1 = release2 || patched(TRIAGE_RELEASE_1);
  // The prompt comes from the registry, pinned at the run's start; runs begun before the registry used the code's spec
  // and recorded its version here.
  const registry = release1 || patched('support-prompt-registry');
  // Review sampling and review records (runs recorded before them replay without).
  const sampled = release1 || patched('support-review-sampling');
  const recordsReviews = release1 || patched('support-review-records');
  // Reminders before the review deadline: timers and a tool call an older history does not have.
  const reminds = release1 || patched('support-review-reminders');
  // The run's three opening reads (controls, prompt pin, ticket context) issued together: one round of local
  // activities instead of three in a row.
  const together = release1;
  // The model call reads and writes the response cache itself: no local activity before the call or after it.
  const cacheInCall = release2;
  // Search attributes written once per workflow task, not once per change: the phases a task passes through are never
  // seen between tasks. `flush` before each wait outside the task and before the run returns.
  const batch = release2 ? new SearchAttributeBatch() : null;
  // The three opening reads asked as one local activity: one task, one marker and one activation instead of three.
  // New in this release.
  const oneRead = current;
  const upsert = (pairs: SearchAttributeUpdatePair[]) => (batch ? batch.set(pairs) : upsertSearchAttributes(pairs));
  const flush = () => batch?.flush();
  if (!registry) upsert([{ key: governorSearchAttributes.promptVersion, value: `${spec.name}@${spec.version}` }]);

  const enter = (phase: Phase) => {
    state.phase = phase;
    upsert([
      { key: governorSearchAttributes.phase, value: phase },
      { key: governorSearchAttributes.awaitingReview, value: phase === Phase.AwaitingReview },
    ]);
  };
  // The prompt and the run's place in a rollout, pinned together.
  const pin = async (): Promise<PinnedRun> => (registry ? pinRun(classifierRecord, { eventId: event.event_id }) : codePinned(classifierRecord));
  const contextStep = step('load_context');
  const loadContext = async (): Promise<TicketContext> => {
    contextStep.attempts = 1;
    const loaded = await localContext.loadTicketContext(event);
    contextStep.status = 'succeeded';
    return loaded;
  };

  // The controls in force (SLO breach actions), read once: review-only, or start at the chain's fallback.
  let controls: WorkflowControls;
  let pinnedRun: PinnedRun;
  let early: TicketContext | null = null;
  if (oneRead) {
    enter(Phase.LoadingContext);
    contextStep.attempts = 1;
    ({ controls, pinnedRun, early } = await readTogether({
      controls: controlsRead(),
      pinnedRun: pinRead(classifierRecord, { eventId: event.event_id }),
      early: read('loadTicketContext', event),
    }));
    contextStep.status = 'succeeded';
  } else if (together) {
    enter(Phase.LoadingContext);
    [controls, pinnedRun, early] = await Promise.all([readWorkflowControls({ known: true }), pin(), loadContext()]);
  } else {
    controls = await readWorkflowControls();
    pinnedRun = await pin();
  }
  state.controls = controls;
  const chain = chainUnder(controls, configuredChain);
  const modelRef = chain[0]!;
  const pinned = pinnedRun.prompt;
  const prompt = pinned.record;
  state.rollout = pinnedRun.rollout
    ? { ...pinnedRun.rollout, decidedBy: pinnedRun.production ? 'candidate' : 'production', productionVersion: pinnedRun.production?.record.version ?? prompt.version }
    : null;
  if (registry) upsert([{ key: governorSearchAttributes.promptVersion, value: `${prompt.name}@${prompt.version}` }]);
  state.prompt = { name: prompt.name, version: prompt.version, model: modelRef.model, provider: modelRef.provider, temperature: prompt.temperature, hash: pinned.hash };


  /**
   * A tool request of this run; the step fields also travel in the arguments, where the evidence records them. The
   * run reads the evidence's id and status, so it asks for the digest: the whole record stays in the store.
   */
  const toolRequest = (tool: string, action: string, step: string, args: Record<string, unknown>): ToolRequest & { evidence: 'digest' } => {
    const key = idempotencyKey(workflowId, step as StepId);
    return { tool, action, actor: TRIAGE_ACTOR, workflowId, stepId: step, idempotencyKey: key, args: { workflowId, stepId: step, idempotencyKey: key, ...args }, evidence: 'digest' };
  };

  // 1. Context (read with the controls and the pin above, in runs that read them together).
  let ctx: TicketContext;
  if (early) ctx = early;
  else {
    enter(Phase.LoadingContext);
    ctx = await loadContext();
  }

  // 2. Classify through the governed model step: fallback chain, validation, bounded repair, budgets, cache.
  enter(Phase.Classifying);
  flush();
  const classify = step('classify');
  let reviewReason: ReviewReason | null = null;
  let reviewDetail = '';
  const classified = await governedModelStep({
    step: 'classify',
    prompt: stepPromptOf(pinned),
    schema: TicketClassification,
    rules,
    messages: renderClassifierMessages(ctx),
    repair: (messages, reply, issues) => {
      enter(Phase.Repairing);
      flush();
      return renderRepairMessages(messages, reply, issues);
    },
    chain,
    budgets,
    ledger: state.ledger,
    confidence: { of: (c) => c.confidence, threshold: config.confidenceThreshold },
    callTimeout: (config.modelCallTimeout ?? '60s') as Duration,
    cacheInCall,
    onCall: (reply, valid, issues) => {
      state.modelCalls.push({
        round: state.modelCalls.length,
        attempt: reply.attempt ?? 1,
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
  // Every request the providers saw, transport retries included.
  classify.attempts = state.modelCalls.reduce((n, c) => n + c.attempt, 0);
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
  // Shadow: the candidate classifies the same input beside production; both are recorded, production decides.
  if (pinnedRun.shadow) {
    flush();
    const shadowed = await governedModelStep({
      step: 'classify_shadow',
      prompt: stepPromptOf(pinnedRun.shadow),
      schema: TicketClassification,
      rules,
      messages: renderClassifierMessages(ctx),
      repair: renderRepairMessages,
      chain,
      budgets,
      ledger: state.ledger,
      confidence: { of: (c) => c.confidence, threshold: config.confidenceThreshold },
      callTimeout: (config.modelCallTimeout ?? '60s') as Duration,
      cacheInCall,
    });
    const value = 'value' in shadowed ? shadowed.value : null;
    const primary = state.classification;
    state.shadow = {
      version: pinnedRun.shadow.record.version,
      status: shadowed.status,
      classification: value,
      agrees: value !== null && primary !== null && value.category === primary.category && value.urgency === primary.urgency,
    };
  }
  if (reviewReason === null && pinnedRun.rollout?.stage === 'suggestion' && pinnedRun.production) {
    reviewReason = 'suggestion';
    reviewDetail = `prompt ${prompt.name}@${prompt.version} is in suggestion: its output goes to a reviewer and is never applied on its own`;
  }
  if (reviewReason === null && controls.reviewOnly) {
    reviewReason = 'review_only';
    reviewDetail = 'the workflow is review-only: an SLO breach action (or an operator) holds every run for a person';
  }
  // Review sampling: reasons found above stand; sampling adds high stakes (a person first) and regulated outputs a
  // scan flagged, and draws the graded share of the rest.
  if (sampled && state.classification) {
    // Inputs recorded before sampling carry no policy: parse resolves the support default (pure code).
    const policy = ReviewSampling.parse(config.sampling ?? SUPPORT_REVIEW_SAMPLING);
    state.sampling = routeThisRun(policy, state.classification);
    if (reviewReason === null && state.sampling.route === 'human') {
      reviewReason = 'high_stakes';
      reviewDetail = state.sampling.reason;
    } else if (reviewReason === null && state.sampling.route === 'scan_flagged') {
      reviewReason = 'scan_flagged';
      reviewDetail = state.sampling.reason;
    }
  }
  classify.status = state.classification ? 'succeeded' : 'failed';
  if (!state.classification) classify.detail = reviewDetail;

  enter(Phase.Deciding);
  const classification = state.classification;
  if (classification) {
    upsert([
      { key: supportSearchAttributes.category, value: classification.category },
      { key: supportSearchAttributes.urgency, value: classification.urgency },
    ]);
  }

  const escalate = async (reason: 'urgent_billing' | 'review_deadline_passed') => {
    enter(Phase.Escalating);
    flush();
    const s = step('create_escalation');
    s.attempts = 1;
    const { evidence } = await tools.executeTool(
      toolRequest('create_escalation', 'escalate_ticket', s.id, {
        ticketId: event.ticket.id,
        customerId: event.customer.id,
        reason,
        priority: reason === 'urgent_billing' ? 'high' : 'normal',
      }),
    );
    s.status = 'succeeded';
    s.evidenceId = evidence.evidenceId;
    state.evidenceIds.push(evidence.evidenceId);
  };

  const finish = async (): Promise<TriageResult> => {
    enter(Phase.Completed);
    flush();
    // Let an update that is still being answered finish before the run closes.
    await condition(allHandlersFinished);
    const final = state.outcome ?? 'rejected';
    // Workflow time (the sandbox's clock is the current task's), so replay computes the same figure.
    const d = decision();
    kitMetrics.run(
      {
        outcome: final,
        promptVersion: `${prompt.name}@${prompt.version}`,
        model: modelRef.model,
        reviewed: reviewReason !== null,
        overridden: d?.action === 'correct' || d?.action === 'reject',
        escalated: final === 'escalated' || final === 'review_expired_escalated',
      },
      new Date().getTime() - workflowInfo().runStartTime.getTime(),
      state.ledger,
    );
    const labels = d?.action === 'correct' ? d.corrected : state.classification;
    return {
      workflowId,
      outcome: final,
      category: final === 'rejected' || final === 'review_expired_escalated' ? null : (labels?.category ?? null),
      urgency: final === 'rejected' || final === 'review_expired_escalated' ? null : (labels?.urgency ?? null),
      confidence: state.classification?.confidence ?? null,
      reviewReason,
      reviewerId: d?.reviewerId ?? null,
      evidenceIds: [...state.evidenceIds],
      prompt: { name: prompt.name, version: prompt.version, model: modelRef.model, hash: pinned.hash },
    };
  };

  // 3. Review when the output cannot be trusted as is.
  let labels = classification ? { category: classification.category, urgency: classification.urgency } : null;
  let outcome: Outcome = 'auto_applied';
  let decidedBy = `model:${modelRef.model}`;
  if (reviewReason !== null) {
    const deadline = config.reviewDeadline as Duration;
    const pendingReview: PendingReview = { reason: reviewReason, detail: reviewDetail, reviewers: config.reviewers, deadline: deadlineAfter(deadline) };
    state.pendingReview = pendingReview;
    enter(Phase.AwaitingReview);
    // Reminders before the deadline: each emails the review team through the outbox, with evidence, while nothing is
    // decided.
    const reminders: DecisionReminders | undefined = reminds
      ? {
          before: config.reviewReminders ?? [],
          send: async (r) => {
            const s = step('remind_reviewers');
            s.attempts = 1;
            const { evidence } = await tools.executeTool(
              toolRequest('remind_reviewers', 'remind_reviewers', s.id, { ticketId: event.ticket.id, reviewers: [...r.approvers], deadline: r.deadline }),
            );
            s.status = evidence.status === 'success' ? 'succeeded' : 'failed';
            s.evidenceId = evidence.evidenceId;
            state.evidenceIds.push(evidence.evidenceId);
            (pendingReview.reminded ??= []).push(deadlineAfter(0));
          },
        }
      : undefined;
    flush();
    const answer = await gate.wait(REVIEW, { approvers: config.reviewers, deadline, info: pendingReview, ...(reminders ? { reminders } : {}) });
    state.pendingReview = null;
    if (!answer.decided) {
      await escalate('review_deadline_passed');
      state.outcome = 'review_expired_escalated';
      return finish();
    }
    const d = answer.decision;
    state.review = { reviewerId: d.reviewerId, action: d.action, note: d.note };
    // Every decision lands in the review records the same way, whether it came from the CLI, the console or a
    // signal: the feedback loop's corrections are read from there.
    if (recordsReviews) {
      await recordReviewDecision({
        kind: 'correction',
        verdict: d.action === 'correct' ? 'corrected' : d.action === 'reject' ? 'rejected' : 'approved',
        original: state.classification,
        corrected: d.action === 'correct' ? d.corrected : null,
        input: { subject: event.ticket.subject, body: event.ticket.body },
        reason: d.note ?? null,
        reviewer: d.reviewerId,
        promptVersion: `${prompt.name}@${prompt.version}`,
      });
    }
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
  const { evidence: applied } = await localTools.executeTool(
    toolRequest('apply_triage_decision', 'apply_triage_decision', apply.id, {
      eventId: event.event_id,
      ticketId: event.ticket.id,
      customerId: event.customer.id,
      category: labels.category,
      urgency: labels.urgency,
      outcome: urgentBilling && outcome === 'auto_applied' ? 'escalated' : outcome,
      decidedBy,
      promptVersion: prompt.version,
      model: modelRef.model,
    }),
  );
  apply.status = applied.status === 'success' ? 'succeeded' : 'failed';
  apply.evidenceId = applied.evidenceId;
  state.evidenceIds.push(applied.evidenceId);
  if (urgentBilling) await escalate('urgent_billing');
  state.outcome = urgentBilling && outcome === 'auto_applied' ? 'escalated' : outcome;
  // A drawn run no person saw is graded after it was applied; queueing never holds up or fails the run.
  if (reviewReason === null && state.sampling?.graded && state.classification) {
    await queueForGrading({
      output: state.classification,
      input: { subject: event.ticket.subject, body: event.ticket.body },
      promptVersion: `${prompt.name}@${prompt.version}`,
      sampling: state.sampling,
    });
  }
  return finish();
}
