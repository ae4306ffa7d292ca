import { allHandlersFinished, condition, patched, proxyActivities, proxyLocalActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Duration, SearchAttributeUpdatePair } from '@temporalio/common';
import { Budgets, checkToolCall, formatIssues, type ModelRef, type PinnedRun, type ValidationIssue, type WorkflowControls } from 'governor';
import {
  DecisionGate,
  deadlineAfter,
  emptyLedger,
  governedModelStep,
  governedToolCall,
  readWorkflowControls,
  readTogether,
  controlsRead,
  pinRead,
  chainUnder,
  governorSearchAttributes,
  kitMetrics,
  Leases,
  nextStep,
  codePinned,
  pinRun,
  stepPromptOf,
  succeeded,
  summarizeFromEvidence,
  type ApprovalAnswer,
  type ApprovalRequest,
  type BusinessRule,
  type ClaimRule,
  type ToolCallOutcome,
  type ToolStepContext,
} from 'governor/workflow';
import type { Activities } from 'governor/worker';
import {
  ApprovalDecision,
  COMPLAINT_ACTOR,
  ComplaintDecision,
  ComplaintPhase,
  HumanResolution,
  type ComplaintInput,
  type ComplaintResult,
  type ComplaintState,
  type PendingApproval,
} from '../contracts/complaint.js';
import { approvalUpdate, complaintStateQuery, resolveUpdate, type ApprovalAccepted } from '../messages.js';
import { COMPLAINT_TOOLS, complaintDecider as spec, complaintRecord, renderComplaintMessages, renderComplaintRepair } from '../prompts/complaint-escalation.js';
import { ESCALATION_TEAMS, SUPPORT_TOOLS } from '../tools.js';

/**
 * The patch a complaint run begun on this release records: it stands for every change of `COMPLAINT_RELEASE_1` and
 * the controls and the prompt pin read as one local activity (`readTogether`). The next release adds its own in front.
 */
export const COMPLAINT_RELEASE = 'support-complaint-2026-11-23.2';

/**
 * The release before: it stands for `support-complaint-prompt-registry`, `support-complaint-local-steps` and
 * `governor-workflow-controls`.
 */
export const COMPLAINT_RELEASE_1 = 'support-complaint-2026-11-23';

/** Reading the run's evidence back for the summary: a fast query, retried a little. */
const EVIDENCE_READ = { startToCloseTimeout: '10s', retry: { initialInterval: '500ms', maximumInterval: '5s', maximumAttempts: 5 } } as const;
const evidenceReads = { regular: proxyActivities<Activities>(EVIDENCE_READ).listEvidence, local: proxyLocalActivities<Activities>(EVIDENCE_READ).listEvidence };

const WRITE_TOOLS = new Set(Object.values(SUPPORT_TOOLS).filter((t) => t.kind === 'write').map((t) => t.name));

/** Things a model tends to say it did, and the tools whose success evidence would make the claim true. */
const CLAIMS: readonly ClaimRule[] = [
  { claim: 'an email was sent', pattern: /\b(sent|emailed|forwarded|notified)\b/i, tools: ['send_escalation_email', 'send_customer_email'] },
  { claim: 'a refund was issued', pattern: /\brefunded\b|\brefund\b[^.]*\b(issued|processed|completed|sent)\b|\b(issued|processed)\b[^.]*\brefund\b/i, tools: ['issue_refund'] },
  { claim: 'a note was added to the ticket', pattern: /\b(noted|added a note|left a note)\b/i, tools: ['add_ticket_note'] },
];

/** The one resolution a run that escalated to a person waits for, by its key in the gate. */
const RESOLUTION = 'resolution';

/**
 * Every proposed action must name an offered tool with arguments its schema accepts, and touch only this
 * complaint's ticket and customer (the policy decides on tools and scopes, never on arguments, so this is where an
 * injected "note every ticket" is stopped). The issues go to the repair turn.
 */
function actionRules(allowed: ReadonlySet<string>): ReadonlyArray<BusinessRule<ComplaintDecision>> {
  return [
    {
      id: 'actions-valid-tool-calls',
      check: (d) =>
        d.actions.flatMap((a, i): ValidationIssue[] => {
          let args: unknown;
          try {
            args = JSON.parse(a.args);
          } catch {
            return [{ field: `actions.${i}.args`, rule: 'must be a JSON object' }];
          }
          const checked = checkToolCall(SUPPORT_TOOLS, a.tool, args, COMPLAINT_TOOLS);
          if (!checked.ok) return checked.issues.map((x) => ({ field: `actions.${i}.${x.field}`, rule: x.rule }));
          const outside = checked.spec.resources(checked.args).filter((r) => !allowed.has(r));
          return outside.map((r) => ({ field: `actions.${i}.args`, rule: `${r} is not this complaint's ticket or customer (${[...allowed].join(', ')})` }));
        }),
    },
  ];
}

/**
 * `complaint.received` → read the ticket, the customer and earlier escalations in parallel → the model decides
 * (structured output, validated, repaired) → the escalation email and any proposed actions, each through the
 * governed tool call (policy, approval, lease, evidence) → checkpoints → a human for whatever was denied or failed →
 * a summary built from the evidence store.
 */
export async function complaintEscalation(input: ComplaintInput): Promise<ComplaintResult> {
  const { event, config } = input;
  const workflowId = workflowInfo().workflowId;
  const complaint = event.complaint;
  const configuredChain: ModelRef[] = config.modelChain ?? [{ provider: 'anthropic', model: spec.models.anthropic }];
  const budgets = Budgets.parse(config.budgets ?? {});
  const state: ComplaintState = {
    workflowId,
    complaintId: complaint.id,
    ticketId: complaint.ticket_id,
    phase: ComplaintPhase.Received,
    prompt: { name: spec.name, version: spec.version },
    decision: null,
    steps: [],
    evidence: [],
    pendingApprovals: [],
    humanTasks: [],
    resolution: null,
    checkpoints: [],
    budgets,
    ledger: emptyLedger(),
    modelTrail: [],
    summary: null,
    outcome: null,
    controls: null,
  };
  setHandler(complaintStateQuery, () => state);

  const now = () => new Date().toISOString();
  const enter = (phase: ComplaintPhase, also: SearchAttributeUpdatePair[] = []) => {
    state.phase = phase;
    upsertSearchAttributes([
      { key: governorSearchAttributes.phase, value: phase },
      { key: governorSearchAttributes.awaitingReview, value: phase === ComplaintPhase.AwaitingApproval || phase === ComplaintPhase.AwaitingHuman },
      ...also,
    ]);
  };
  const checkpoint = (name: string, data: Record<string, string | number | boolean | null> = {}) => {
    state.checkpoints.push({ name, at: now(), data });
  };
  // Versioning, asked before any local activity (a patch marker after a local-activity marker breaks replay). A run
  // begun on this release records one patch that stands for the changes below; runs begun before it replay through
  // the patches they recorded, in the same order.
  const current = patched(COMPLAINT_RELEASE);
  const release1 = current || patched(COMPLAINT_RELEASE_1);
  // The prompt comes from the registry, pinned at the run's start; runs begun before the registry used the code's spec
  // and recorded its version here.
  const registry = release1 || patched('support-complaint-prompt-registry');
  // Tool steps and the evidence read as local activities: about half the history of a run (runs begun before replay
  // as they were).
  const localSteps = release1 || patched('support-complaint-local-steps');
  // The controls and the pin read as one local activity: one marker and one activation instead of two. New in this
  // release.
  const oneRead = current;
  const listEvidence = localSteps ? evidenceReads.local : evidenceReads.regular;
  if (!registry) upsertSearchAttributes([{ key: governorSearchAttributes.promptVersion, value: `${spec.name}@${spec.version}` }]);

  // One gate per kind of decision: the held actions (keyed by step) and the resolution of what went to a person.
  const approvals = new DecisionGate<ApprovalDecision, ApprovalAccepted, PendingApproval>({
    update: approvalUpdate,
    schema: ApprovalDecision,
    keyOf: (d) => d.stepId,
    reviewerOf: (d) => d.reviewerId,
    accept: (d) => ({ status: 'accepted', stepId: d.stepId, approved: d.approved, reviewerId: d.reviewerId }),
    describe: {
      alreadyDecided: (previous) => `${previous.stepId} was already decided`,
      notAwaiting: (key) => `no action ${key} is waiting for approval`,
      notAuthorised: (reviewer) => `${reviewer} may not approve this run`,
    },
  });
  const resolutions = new DecisionGate<HumanResolution, { readonly status: 'accepted'; readonly reviewerId: string }>({
    update: resolveUpdate,
    schema: HumanResolution,
    keyOf: () => RESOLUTION,
    reviewerOf: (r) => r.reviewerId,
    accept: (r) => ({ status: 'accepted', reviewerId: r.reviewerId }),
    describe: {
      alreadyDecided: (previous) => `already resolved by ${previous.reviewerId}`,
      notAwaiting: () => `run is ${state.phase}, not waiting for a human`,
      notAuthorised: (reviewer) => `${reviewer} may not resolve this run`,
    },
  });

  const tools: ToolStepContext = {
    tools: SUPPORT_TOOLS,
    actor: COMPLAINT_ACTOR,
    leases: new Leases(),
    leaseOptions: { wait: String(config.leaseWait), ttl: String(config.leaseTtl) },
    local: localSteps,
    async approve(req: ApprovalRequest): Promise<ApprovalAnswer> {
      const deadline = config.approvalDeadline as Duration;
      const pending: PendingApproval = {
        stepId: req.stepId,
        tool: req.tool,
        args: req.args,
        rule: req.rule,
        reason: req.reason,
        approvers: req.approvers,
        deadline: deadlineAfter(deadline),
      };
      state.pendingApprovals.push(pending);
      const previous = state.phase;
      enter(ComplaintPhase.AwaitingApproval);
      const answer = await approvals.wait(req.stepId, { approvers: req.approvers, deadline, info: pending });
      state.pendingApprovals = state.pendingApprovals.filter((p) => p.stepId !== req.stepId);
      enter(previous);
      return answer.decided ? { approved: answer.decision.approved, approver: answer.decision.reviewerId, note: answer.decision.note } : { approved: false, approver: null };
    },
  };

  const run = async (action: string, tool: string, args: unknown): Promise<ToolCallOutcome> => {
    const line = nextStep(state.steps, action, tool);
    const id = line.id;
    line.attempts = 1;
    const outcome = await governedToolCall(tools, { step: id, action, tool, args });
    line.status = outcome.status === 'done' ? 'succeeded' : outcome.status;
    if (outcome.status !== 'invalid_args') {
      line.evidenceId = outcome.evidence.evidenceId;
      state.evidence.push(outcome.evidence);
    }
    if (outcome.status === 'denied') state.humanTasks.push({ reason: 'permission_denied', detail: `${tool}: ${outcome.reason} (rule ${outcome.rule})`, stepId: id });
    if (outcome.status === 'rejected') state.humanTasks.push({ reason: 'approval_rejected', detail: `${tool}: ${outcome.reason}`, stepId: id });
    if (outcome.status === 'failed') state.humanTasks.push({ reason: 'tool_failed', detail: `${tool}: ${outcome.detail}`, stepId: id });
    // Only a step the workflow built itself can get here (the model's actions were validated before): a contract
    // gap, never a silent skip.
    if (outcome.status === 'invalid_args') state.humanTasks.push({ reason: 'tool_failed', detail: `${tool}: invalid arguments: ${formatIssues(outcome.issues)}`, stepId: id });
    if (outcome.status === 'invalid_args') line.detail = formatIssues(outcome.issues);
    else if (outcome.status !== 'done') line.detail = 'reason' in outcome ? outcome.reason : outcome.detail;
    return outcome;
  };

  // The controls in force (SLO breach actions), read once: a fallback-chain control starts at the chain's fallback.
  let controls: WorkflowControls;
  let pinnedRun: PinnedRun;
  if (oneRead) {
    ({ controls, pinnedRun } = await readTogether({ controls: controlsRead(), pinnedRun: pinRead(complaintRecord, { eventId: event.event_id }) }));
  } else {
    controls = await readWorkflowControls({ known: release1 });
    pinnedRun = registry ? await pinRun(complaintRecord, { eventId: event.event_id }) : codePinned(complaintRecord);
  }
  state.controls = controls;
  const chain = chainUnder(controls, configuredChain);
  // The run's prompt: production's version, or a rollout candidate's on its share when the candidate decides
  // (partial, full); shadow and suggestion are the classifier's stages and leave complaint runs on production.
  const prompt = pinnedRun.rollout && (pinnedRun.rollout.stage === 'shadow' || pinnedRun.rollout.stage === 'suggestion') ? (pinnedRun.production ?? pinnedRun.prompt) : pinnedRun.prompt;
  state.prompt = { name: prompt.record.name, version: prompt.record.version };
  const promptVersion: SearchAttributeUpdatePair[] = registry ? [{ key: governorSearchAttributes.promptVersion, value: `${prompt.record.name}@${prompt.record.version}` }] : [];
  // With local steps the version goes out with the next phase: one history event fewer.
  if (!localSteps && registry) upsertSearchAttributes(promptVersion);

  // 1. Context: independent reads, in parallel; reads take no leases.
  enter(ComplaintPhase.Reading, localSteps ? promptVersion : []);
  const [ticket, customerRecord, previous] = await Promise.all([
    run('read_ticket', 'get_ticket', { ticketId: complaint.ticket_id }),
    run('read_customer', 'get_customer', { customerId: event.customer.id }),
    run('read_complaints', 'get_recent_complaints', { customerId: event.customer.id }),
  ]);
  const resultOf = (o: ToolCallOutcome) => (o.status === 'done' ? o.result : { unavailable: o.status });
  checkpoint('context_loaded', { reads: [ticket, customerRecord, previous].filter((o) => o.status === 'done').length });

  // 2. The model decides: structured output, validated (tool calls included), repaired, bounded by the budgets.
  enter(ComplaintPhase.Deciding);
  const decided = await governedModelStep({
    step: 'decide',
    prompt: stepPromptOf(prompt),
    schema: ComplaintDecision,
    rules: actionRules(new Set([`ticket:${complaint.ticket_id}`, `customer:${event.customer.id}`])),
    messages: renderComplaintMessages({
      complaint,
      customerId: event.customer.id,
      plan: event.customer.plan,
      ticket: resultOf(ticket),
      customerRecord: resultOf(customerRecord),
      previousComplaints: resultOf(previous),
    }),
    repair: renderComplaintRepair,
    chain,
    budgets,
    ledger: state.ledger,
    confidence: { of: (d) => d.confidence, threshold: config.confidenceThreshold },
    callTimeout: config.modelCallTimeout as Duration,
  });
  state.modelTrail.push(...decided.trail);

  const expected: string[] = [];
  if (decided.status === 'ok') {
    const decision = decided.value;
    state.decision = decision;
    checkpoint('decided', { escalate: decision.escalate, severity: decision.severity, actions: decision.actions.length });

    // 3. Act. The escalation email is the workflow's own step when the model says escalate; proposed actions follow.
    enter(ComplaintPhase.Acting);
    if (decision.escalate) {
      expected.push('send_escalation_email');
      const sent = await run('escalate_complaint', 'send_escalation_email', {
        complaintId: complaint.id,
        ticketId: complaint.ticket_id,
        customerId: event.customer.id,
        to: ESCALATION_TEAMS[0],
        severity: decision.severity === 'low' ? 'medium' : decision.severity,
        summary: `${complaint.subject}: ${decision.reason}`,
      });
      if (sent.status === 'done') checkpoint('email_sent', { evidenceId: sent.evidence.evidenceId, messageId: sent.evidence.receiptId });
    }
    for (const proposed of decision.actions) {
      // The rules above guarantee every action parses and validates; the tool layer checks again.
      const outcome = await run(`model_action_${proposed.tool}`, proposed.tool, JSON.parse(proposed.args));
      if (outcome.status === 'done') checkpoint(`${proposed.tool}_done`, { evidenceId: outcome.evidence.evidenceId });
    }
  } else {
    const detail = decided.detail;
    state.decision = decided.status === 'needs_review' ? decided.value : null;
    state.humanTasks.push({ reason: 'needs_review', detail: `${decided.status}${'reason' in decided ? ` (${decided.reason})` : ''}: ${detail}`, stepId: null });
  }

  // 4. Anything denied, rejected, failed or unreviewable goes to a human; the model cannot argue past a denial.
  if (state.humanTasks.length > 0) {
    enter(ComplaintPhase.AwaitingHuman);
    checkpoint('human_asked', { tasks: state.humanTasks.length });
    state.humanWait = { approvers: config.approvers, deadline: deadlineAfter(config.humanDeadline as Duration) };
    const answer = await resolutions.wait(RESOLUTION, { approvers: config.approvers, deadline: config.humanDeadline as Duration, info: null });
    state.humanWait = null;
    if (answer.decided) state.resolution = { reviewerId: answer.decision.reviewerId, note: answer.decision.note };
  }

  // 5. The summary comes from the evidence store, never from the model's reply.
  // Digests, not whole records: each record is already in history from its step. (Runs that read whole records
  // replay with them: a record has every field of its digest, and the summary reads no other.)
  const records = await listEvidence(workflowId, 'digest');
  const fromEvidence = summarizeFromEvidence(records, {
    writesOnly: WRITE_TOOLS,
    expected,
    modelClaim: state.decision?.reply ?? '',
    given: state.evidence.map((e) => e.evidenceId),
    claims: CLAIMS,
  });
  const escalationEmailSent = succeeded(records, ['send_escalation_email']);
  const { lines, ...rest } = fromEvidence;
  const summary = { ...rest, escalationEmailSent, text: [`Escalation email: ${escalationEmailSent ? 'sent' : 'NOT sent'}.`, ...lines].join('\n') };
  state.summary = summary;
  state.outcome = state.humanTasks.length === 0 ? 'completed' : state.resolution ? 'resolved_by_human' : 'unresolved';
  checkpoint('summarized', { outcome: state.outcome, emailSent: summary.escalationEmailSent });
  kitMetrics.run(
    {
      outcome: state.outcome,
      promptVersion: `${prompt.record.name}@${prompt.record.version}`,
      model: chain[0]?.model,
      reviewed: state.humanTasks.length > 0,
      escalated: escalationEmailSent,
    },
    new Date().getTime() - workflowInfo().runStartTime.getTime(),
    state.ledger,
  );
  enter(ComplaintPhase.Completed);
  await condition(allHandlersFinished);
  return { workflowId, outcome: state.outcome, summary, evidenceIds: records.map((r) => r.evidenceId) };
}
