/**
 * The support domain's workflows, each described once: descriptors over the messages and search attributes of
 * `messages.ts` (re-exported here). The client, the CLI and the review queue are driven from `SUPPORT_WORKFLOWS`; the
 * workflows import only `messages.ts`.
 */
import { z } from 'zod';
import { eventId } from 'governor';
import { defineDecision, defineWorkflow, type ModelChoice, type ReviewView, type WaitingDecision } from 'governor/workflow';
import {
  ApprovalDecision,
  COMPLAINT_RECEIVED,
  ComplaintConfig,
  ComplaintPhase,
  ComplaintReceived,
  HumanResolution,
  type ComplaintInput,
  type ComplaintResult,
  type ComplaintState,
} from './contracts/complaint.js';
import { HandoffInput, type AnalystResult } from './contracts/handoff.js';
import { SUPPORT_TICKET_CREATED, SupportTicketCreated } from './contracts/ticket.js';
import { Category, Phase, ReviewDecision, TriageConfig, Urgency, type TriageInput, type TriageResult, type TriageState } from './contracts/triage.js';
import { complaintDecider } from './prompts/complaint-escalation.js';
import { supportTicketClassifier } from './prompts/support-ticket-classifier.js';
import { AGENT_REQUESTED, AgentConfig, AgentGuidance, AgentRequested, type AgentInput } from './contracts/agent.js';
import { DOCUMENT_SUBMITTED, DocumentConfig, DocumentSubmitted, type DocumentInput, type DocumentResult, type DocumentState } from './contracts/document.js';
import { agentWorkflowId, complaintWorkflowId, documentWorkflowId, handoffWorkflowId, triageWorkflowId } from './ids.js';

export * from './messages.js';
import {
  agentApprovalUpdate,
  agentGuideUpdate,
  agentStateQuery,
  approvalUpdate,
  complaintStateQuery,
  documentStateQuery,
  handoffStateQuery,
  resolveUpdate,
  reviewUpdate,
  stateQuery,
  supportSearchAttributes,
  type SupportAgentState,
} from './messages.js';

/* ---- descriptors ---- */

/** `governor status` of a triage run. */
function describeTriage(state: TriageState): string[] {
  const c = state.classification;
  const lines = [
    `run          ${state.workflowId}`,
    `phase        ${state.phase}`,
    `ticket       ${state.ticketId} (event ${state.eventId})`,
    `prompt       ${state.prompt ? `${state.prompt.name}@${state.prompt.version} on ${state.prompt.provider}/${state.prompt.model}` : '-'}`,
    `model says   ${c ? `${c.category} / ${c.urgency}, confidence ${c.confidence}: ${c.reason}` : '-'}`,
    `model calls  ${state.modelCalls.map((m) => `${m.valid ? 'valid' : `invalid (${m.issues.join('; ')})`}`).join(', ') || '-'}`,
  ];
  const held = state.controls ? Object.entries(state.controls).filter(([, on]) => on).map(([name]) => name) : [];
  if (held.length > 0) lines.push(`controls     ${held.join(', ')} (in force when the run started)`);
  if (state.pendingReview) {
    lines.push(`review       ${state.pendingReview.reason}: ${state.pendingReview.detail}`);
    lines.push(`             reviewers ${state.pendingReview.reviewers.join(', ')}; due ${state.pendingReview.deadline}`);
  }
  if (state.review) lines.push(`reviewed     ${state.review.action} by ${state.review.reviewerId}${state.review.note ? `: ${state.review.note}` : ''}`);
  lines.push(`outcome      ${state.outcome ?? '-'}`);
  for (const s of state.steps) lines.push(`step         ${s.id} ${s.status}${s.evidenceId ? ` evidence ${s.evidenceId}` : ''}${s.detail ? ` (${s.detail})` : ''}`);
  if (state.rejectedSignals.length > 0) lines.push(`ignored      ${state.rejectedSignals.join('; ')}`);
  return lines;
}

/** `governor status` of a complaint run. */
function describeComplaint(state: ComplaintState): string[] {
  const d = state.decision;
  const lines = [
    `run          ${state.workflowId}`,
    `phase        ${state.phase}`,
    `complaint    ${state.complaintId} on ${state.ticketId}`,
    `model says   ${d ? `escalate ${d.escalate}, ${d.severity}: ${d.reason}` : '-'}`,
  ];
  for (const s of state.steps) lines.push(`step         ${s.id} ${s.tool ?? '-'} ${s.status}${s.evidenceId ? ` evidence ${s.evidenceId}` : ''}${s.detail ? ` (${s.detail})` : ''}`);
  for (const p of state.pendingApprovals) lines.push(`approval     ${p.stepId} ${p.tool}: ${p.reason}; approvers ${p.approvers.join(', ')}; due ${p.deadline}`);
  for (const t of state.humanTasks) lines.push(`human        ${t.reason}: ${t.detail}`);
  for (const c of state.checkpoints) lines.push(`checkpoint   ${c.at} ${c.name} ${JSON.stringify(c.data)}`);
  if (state.summary) lines.push(...state.summary.text.split('\n').map((l) => `summary      ${l}`));
  lines.push(`outcome      ${state.outcome ?? '-'}`);
  return lines;
}

/** A triage run in the reviewer console: its review, with approve, correct (category, urgency) and reject. */
const triageReview: ReviewView<TriageState> = {
  waiting(state) {
    const p = state.pendingReview;
    if (!p || state.phase !== Phase.AwaitingReview) return [];
    const c = state.classification;
    const note = (n?: string) => (n ? { note: n } : {});
    const choices: WaitingDecision['choices'][number][] = [];
    if (c) choices.push({ id: 'approve', label: 'Approve', payload: ({ reviewerId, note: n }) => ({ action: 'approve', reviewerId, ...note(n) }) });
    choices.push({
      id: 'correct',
      label: 'Correct',
      fields: [
        { name: 'category', label: 'Category', options: Category.options, value: c?.category ?? null },
        { name: 'urgency', label: 'Urgency', options: Urgency.options, value: c?.urgency ?? null },
      ],
      payload: ({ reviewerId, note: n, fields }) => ({ action: 'correct', reviewerId, corrected: { category: fields.category, urgency: fields.urgency }, ...note(n) }),
    });
    choices.push({ id: 'reject', label: 'Reject', payload: ({ reviewerId, note: n }) => ({ action: 'reject', reviewerId, ...note(n) }) });
    return [
      {
        verb: 'review',
        key: 'review',
        kind: 'review',
        title: c ? `${c.category} / ${c.urgency} (confidence ${c.confidence})` : 'no valid classification',
        reason: `${p.reason}: ${p.detail}`,
        approvers: p.reviewers,
        deadline: p.deadline,
        atDeadline: 'the ticket is escalated (review deadline passed)',
        reminded: p.reminded ?? [],
        choices,
      },
    ];
  },
  detail(state) {
    const c = state.classification;
    return {
      output: c,
      issues: state.modelCalls.flatMap((m) => m.issues),
      confidence: c?.confidence ?? null,
      promptVersion: state.prompt ? `${state.prompt.name}@${state.prompt.version}` : null,
      modelTrail: state.modelTrail,
      costUsd: state.ledger.usd,
      evidenceIds: state.evidenceIds,
      labels: { category: c?.category ?? null, urgency: c?.urgency ?? null },
      decided: state.review ? { by: state.review.reviewerId, action: state.review.action, ...(state.review.note ? { note: state.review.note } : {}) } : null,
    };
  },
  trigger: (input: TriageInput) => input.event,
  grading: {
    fields: (output: { category?: string; urgency?: string } | null) => [
      { name: 'category', label: 'Category', options: Category.options, value: output?.category ?? null },
      { name: 'urgency', label: 'Urgency', options: Urgency.options, value: output?.urgency ?? null },
    ],
    corrected: (fields) => ({ category: fields.category, urgency: fields.urgency }),
  },
};

/** A complaint run in the reviewer console: each held action (approve or reject), and the resolution of its human tasks. */
const complaintReview: ReviewView<ComplaintState> = {
  waiting(state) {
    const waiting: WaitingDecision[] = state.pendingApprovals.map((p) => ({
      verb: 'approve-action',
      key: p.stepId,
      kind: 'approval',
      title: `${p.tool} ${JSON.stringify(p.args)}`,
      reason: `${p.rule}: ${p.reason}`,
      approvers: p.approvers,
      deadline: p.deadline,
      atDeadline: 'the action is not taken and goes to a person',
      choices: [
        { id: 'approve', label: 'Approve', payload: ({ reviewerId, note }) => ({ stepId: p.stepId, approved: true, reviewerId, ...(note ? { note } : {}) }) },
        { id: 'reject', label: 'Reject', payload: ({ reviewerId, note }) => ({ stepId: p.stepId, approved: false, reviewerId, ...(note ? { note } : {}) }) },
      ],
    }));
    if (state.phase === ComplaintPhase.AwaitingHuman && state.humanWait) {
      waiting.push({
        verb: 'resolve',
        key: 'resolve',
        kind: 'task',
        title: state.humanTasks.map((t) => t.detail).join('; '),
        reason: [...new Set(state.humanTasks.map((t) => t.reason))].join(', '),
        approvers: state.humanWait.approvers,
        deadline: state.humanWait.deadline,
        atDeadline: 'the run closes unresolved',
        choices: [{ id: 'resolve', label: 'Resolve', payload: ({ reviewerId, note }) => ({ reviewerId, ...(note ? { note } : {}) }) }],
      });
    }
    return waiting;
  },
  detail(state) {
    const d = state.decision;
    return {
      output: d,
      issues: [],
      confidence: d?.confidence ?? null,
      promptVersion: state.prompt ? `${state.prompt.name}@${state.prompt.version}` : null,
      modelTrail: state.modelTrail,
      costUsd: state.ledger.usd,
      evidenceIds: state.evidence.map((e) => e.evidenceId),
      labels: { severity: d?.severity ?? null },
      decided: state.resolution ? { by: state.resolution.reviewerId, action: 'resolve', ...(state.resolution.note ? { note: state.resolution.note } : {}) } : null,
    };
  },
  trigger: (input: ComplaintInput) => input.event,
};

/** The model a run uses when the caller names none: the chosen provider with the prompt's default model for it. */
function modelFor(models: Readonly<Partial<Record<string, string>>>, choice: ModelChoice): { provider: string; model: string } {
  const model = choice.model ?? models[choice.provider];
  if (!model) throw new Error(`no default model for provider ${choice.provider}; name one (GOVERNOR_MODEL or --model)`);
  return { provider: choice.provider, model };
}

export const triageWorkflow = defineWorkflow({
  name: 'supportTicketTriage',
  description: 'Classify a support ticket; a person reviews what the model cannot be trusted with.',
  trigger: { eventType: SUPPORT_TICKET_CREATED, schema: SupportTicketCreated },
  config: TriageConfig,
  defaultConfig: (choice) => ({ model: modelFor(supportTicketClassifier.models, choice) }),
  workflowId: (event) => triageWorkflowId(eventId(event.event_id)),
  input: (event, config) => ({ event, config }),
  state: stateQuery,
  waitingPhases: [Phase.AwaitingReview],
  decisions: {
    review: defineDecision({
      update: reviewUpdate,
      schema: ReviewDecision,
      description: 'approve, correct or reject the classification',
      decidedIn: (s: TriageState) => (s.review ? `already decided (${s.review.action}) by ${s.review.reviewerId}` : null),
    }),
  },
  // A ticket a customer waits on: ahead of batch work on the same workers.
  priority: 1,
  searchAttributes: Object.values(supportSearchAttributes),
  describe: describeTriage,
  review: triageReview,
  _result: undefined as TriageResult | undefined,
});

export const complaintWorkflow = defineWorkflow({
  name: 'complaintEscalation',
  description: 'Decide on a customer complaint: escalate, act through governed tools, hold risky actions for approval.',
  trigger: { eventType: COMPLAINT_RECEIVED, schema: ComplaintReceived },
  config: ComplaintConfig,
  defaultConfig: (choice) => ({ modelChain: [modelFor(complaintDecider.models, choice)] }),
  workflowId: (event) => complaintWorkflowId(eventId(event.event_id)),
  input: (event, config) => ({ event, config }),
  state: complaintStateQuery,
  waitingPhases: [ComplaintPhase.AwaitingApproval, ComplaintPhase.AwaitingHuman],
  decisions: {
    'approve-action': defineDecision({ update: approvalUpdate, schema: ApprovalDecision, description: 'approve or reject a held action' }),
    resolve: defineDecision({
      update: resolveUpdate,
      schema: HumanResolution,
      description: 'close what the run escalated to a person',
      decidedIn: (s: ComplaintState) => (s.resolution ? `already resolved by ${s.resolution.reviewerId}` : null),
    }),
  },
  priority: 2,
  describe: describeComplaint,
  review: complaintReview,
  _result: undefined as ComplaintResult | undefined,
});

export const handoffWorkflow = defineWorkflow({
  name: 'agentHandoff',
  description: 'A research agent hands a typed dataset to an analyst agent; the handoff is verified against evidence.',
  trigger: { eventType: null, schema: HandoffInput },
  config: z.strictObject({}),
  workflowId: (input) => handoffWorkflowId(input.taskId),
  input: (input) => input,
  state: handoffStateQuery,
  waitingPhases: [],
  decisions: {},
  _result: undefined as AnalystResult | undefined,
});

/** `governor status` of a support agent run. */
function describeAgent(state: SupportAgentState): string[] {
  const a = state.agent;
  const lines = [
    `run          ${state.workflowId} (run ${state.runId}${a.previousRuns.length > 0 ? `, continued from ${a.previousRuns.length} earlier run(s)` : ''})`,
    `turn         ${a.turn}; phases done ${a.phasesDone.join(', ') || '-'}; replans ${a.replans}`,
    `spent        $${a.spent.usd.toFixed(4)}, ${a.spent.tokens} tokens, ${a.spent.modelCalls} model calls`,
    `context      ${a.context ? `${a.context.plan.tokens} tokens (${a.context.method}); kept ${a.context.plan.keep.join(', ') || '-'}; summarised ${a.context.plan.summarise.join(', ') || '-'}; dropped ${a.context.plan.drop.join(', ') || '-'}` : '-'}`,
    `pinned       ${a.pinned.join(' | ')}`,
  ];
  for (const t of a.turns) lines.push(`turn ${String(t.n).padEnd(7)} ${t.phase} ${t.action}${t.tool ? ` ${t.tool}` : ''}: ${t.status}${t.evidenceId ? ` evidence ${t.evidenceId}` : ''}${t.detail ? ` (${t.detail.slice(0, 120)})` : ''}`);
  lines.push(`stop         ${a.stop ?? '-'}${a.answer ? `: ${a.answer}` : ''}`);
  return lines;
}

export const agentWorkflow = defineWorkflow({
  name: 'supportAgent',
  description: 'Investigate a support case with tools: one governed move per turn, in order, within a context budget.',
  trigger: { eventType: AGENT_REQUESTED, schema: AgentRequested },
  config: AgentConfig,
  defaultConfig: (choice) => ({ model: modelFor({ anthropic: 'claude-haiku-4-5', openai: 'gpt-4.1-mini' }, choice) }),
  workflowId: (event) => agentWorkflowId(eventId(event.event_id)),
  input: (event, config): AgentInput => ({ event, config }),
  state: agentStateQuery,
  waitingPhases: ['awaiting_human'],
  decisions: {
    'approve-action': defineDecision({ update: agentApprovalUpdate, schema: ApprovalDecision, description: 'approve or reject an action the agent wants to take' }),
    guide: defineDecision({ update: agentGuideUpdate, schema: AgentGuidance, description: 'tell an agent that kept looping what to do instead' }),
  },
  review: {
    waiting: (s: SupportAgentState) =>
      s.awaitingGuidance
        ? [
            {
              verb: 'guide',
              key: 'guide',
              kind: 'task' as const,
              title: `agent on ${s.ticketId} needs guidance`,
              reason: s.awaitingGuidance.reason,
              approvers: s.awaitingGuidance.guides,
              deadline: s.awaitingGuidance.deadline,
              atDeadline: 'the agent stops (loop)',
              choices: [{ id: 'resolve', label: 'Send guidance (the note)', payload: ({ reviewerId, note }: { reviewerId: string; note?: string }) => ({ reviewerId, guidance: note ?? '' }) }],
            },
          ]
        : [],
    detail: (s: SupportAgentState) => ({
      output: s.agent.turns.slice(-5),
      issues: [],
      confidence: null,
      promptVersion: null,
      modelTrail: [],
      costUsd: s.agent.spent.usd,
      evidenceIds: s.agent.turns.flatMap((t) => (t.evidenceId ? [t.evidenceId] : [])),
      labels: {},
      decided: null,
    }),
  },
  priority: 3,
  describe: describeAgent,
  _result: undefined as SupportAgentState | undefined,
});

export const documentWorkflow = defineWorkflow({
  name: 'documentPipeline',
  description: 'Summarise a long document: cleaned, split, chunks summarised in parallel with fallback, merged; a failed chunk is marked, never dropped.',
  trigger: { eventType: DOCUMENT_SUBMITTED, schema: DocumentSubmitted },
  config: DocumentConfig,
  workflowId: (event) => documentWorkflowId(eventId(event.event_id)),
  input: (event, config): DocumentInput => ({ event, config }),
  state: documentStateQuery,
  // Batch work: behind every interactive run on the same workers.
  priority: 5,
  waitingPhases: [],
  decisions: {},
  describe: (s: DocumentState) => [
    `document     ${s.documentId}: ${s.phase}, ${s.settled.length} of ${s.chunks || '?'} chunk(s) settled`,
    ...s.settled.map((c) => `chunk ${String(c.index + 1).padEnd(6)} ${c.status}${c.model ? ` by ${c.model}` : ''}${c.reason ? ` (${c.reason})` : ''}`),
  ],
  _result: undefined as DocumentResult | undefined,
});

/** Every support workflow, for the client, the CLI and the review queue. */
export const SUPPORT_WORKFLOWS = [triageWorkflow, complaintWorkflow, handoffWorkflow, agentWorkflow, documentWorkflow] as const;
