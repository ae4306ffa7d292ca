/**
 * A governed workflow, in one file: its trigger contract, its prompt, its descriptor (what the client, the CLI and
 * the review queue read) and the workflow itself. The model proposes a credit; the workflow validates it, the policy
 * holds it for a person, and the tool runs only after their approval, with evidence.
 */
import { defineQuery, defineUpdate, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { z } from 'zod';
import { Budgets, stepId, toolRegistry, type EvidenceDigest, type ModelRef } from 'governor';
import {
  DecisionGate,
  deadlineAfter,
  defineDecision,
  defineWorkflow,
  emptyLedger,
  governedModelStep,
  governedToolCall,
  governorSearchAttributes,
  jsonSchemaOf,
  Leases,
  repairTurn,
  stepPrompt,
} from 'governor/workflow';
import { issueCredit } from './issue-credit.js';

/* The trigger contract: strict, so a producer's unknown field is an error that names it. */
export const CreditRequested = z.strictObject({
  event: z.literal('credit.requested'),
  event_id: z.string().regex(/^evt_\w{1,64}$/),
  customer_id: z.string().regex(/^cus_\w+$/),
  message: z.string().min(1).max(2_000),
});
export type CreditRequested = z.infer<typeof CreditRequested>;

/* The prompt: versioned; its models are data, per provider. */
export const CreditProposal = z.strictObject({
  grant: z.boolean(),
  amountCents: z.number().int().min(0).max(50_000),
  reason: z.string().min(1).max(300),
});
export type CreditProposal = z.infer<typeof CreditProposal>;

export const creditPrompt = {
  name: 'credit_proposer',
  version: '2026-11-22.1',
  system: 'You propose goodwill credits for customer messages. Answer only through propose_credit.',
  temperature: 0,
  maxOutputTokens: 300,
  cache: { reuse: false, lastResort: false },
  models: { anthropic: 'claude-haiku-4-5', openai: 'gpt-4.1-mini' } as Readonly<Partial<Record<string, string>>>,
  output: { name: 'propose_credit', description: 'Propose whether to grant a credit, and how much.' },
};

/* Messages and state. */
export interface CreditState {
  phase: 'proposing' | 'awaiting_approval' | 'crediting' | 'completed';
  proposal: CreditProposal | null;
  pending: { stepId: string; approvers: readonly string[]; deadline: string } | null;
  outcome: 'credited' | 'declined' | 'rejected' | 'failed' | null;
  evidence: EvidenceDigest[];
}
export const creditState = defineQuery<CreditState>('state');
export const ApproveCredit = z.strictObject({ stepId: z.string(), approved: z.boolean(), reviewerId: z.string().min(1) });
export type ApproveCredit = z.infer<typeof ApproveCredit>;
export const approveCredit = defineUpdate<{ status: 'accepted'; approved: boolean }, [ApproveCredit]>('approveCredit');

export const CreditConfig = z.strictObject({
  model: z.strictObject({ provider: z.string(), model: z.string() }),
  /** How long a proposed credit waits for a person before it lapses, in milliseconds (default a day). */
  approvalDeadlineMs: z.number().int().positive().max(30 * 86_400_000).default(86_400_000),
});

/* The descriptor: the client, the CLI and the review queue need nothing else. */
export const creditWorkflow = defineWorkflow({
  name: 'creditRequest',
  description: 'Propose a goodwill credit; a person approves it before it is issued.',
  trigger: { eventType: 'credit.requested', schema: CreditRequested },
  config: CreditConfig,
  defaultConfig: (choice) => ({ model: { provider: choice.provider, model: choice.model ?? creditPrompt.models[choice.provider] ?? '' } }),
  workflowId: (event) => `credit/${event.event_id}`,
  input: (event, config) => ({ event, config }),
  state: creditState,
  waitingPhases: ['awaiting_approval'],
  decisions: { approve: defineDecision({ update: approveCredit, schema: ApproveCredit, description: 'approve or reject the proposed credit' }) },
  // What a reviewer console shows: the held credit with one-click approve and reject, and the model's proposal.
  review: {
    waiting: (s: CreditState) =>
      s.pending && s.proposal
        ? [
            {
              verb: 'approve',
              key: s.pending.stepId,
              kind: 'approval' as const,
              title: `credit of ${(s.proposal.amountCents / 100).toFixed(2)}`,
              reason: s.proposal.reason,
              approvers: s.pending.approvers,
              deadline: s.pending.deadline,
              atDeadline: 'the credit lapses',
              choices: [true, false].map((approved) => ({
                id: approved ? 'approve' : 'reject',
                label: approved ? 'Approve' : 'Reject',
                payload: ({ reviewerId }: { reviewerId: string }) => ({ stepId: s.pending!.stepId, approved, reviewerId }),
              })),
            },
          ]
        : [],
    detail: (s: CreditState) => ({
      output: s.proposal,
      issues: [],
      confidence: null,
      promptVersion: `${creditPrompt.name}@${creditPrompt.version}`,
      modelTrail: [],
      costUsd: 0,
      evidenceIds: s.evidence.map((e) => e.evidenceId),
      labels: {},
      decided: null,
    }),
  },
});

const TOOLS = toolRegistry([issueCredit]);
const ACTOR = 'agent:credit-proposer';

export async function creditRequest(input: { event: CreditRequested; config: z.infer<typeof CreditConfig> }): Promise<CreditState> {
  const state: CreditState = { phase: 'proposing', proposal: null, pending: null, outcome: null, evidence: [] };
  setHandler(creditState, () => state);
  const gate = new DecisionGate<ApproveCredit, { status: 'accepted'; approved: boolean }>({
    update: approveCredit,
    schema: ApproveCredit,
    keyOf: (d) => d.stepId,
    reviewerOf: (d) => d.reviewerId,
    accept: (d) => ({ status: 'accepted', approved: d.approved }),
  });
  const enter = (phase: CreditState['phase']) => {
    state.phase = phase;
    upsertSearchAttributes([
      { key: governorSearchAttributes.phase, value: phase },
      { key: governorSearchAttributes.awaitingReview, value: phase === 'awaiting_approval' },
    ]);
  };

  const chain: ModelRef[] = [input.config.model];
  const proposed = await governedModelStep({
    step: 'propose',
    prompt: stepPrompt(creditPrompt, jsonSchemaOf(CreditProposal)),
    schema: CreditProposal,
    rules: [{ id: 'amount-when-granted', check: (p) => (p.grant && p.amountCents === 0 ? { field: 'amountCents', rule: 'must be positive when grant is true' } : null) }],
    messages: [{ role: 'user', content: `Customer ${input.event.customer_id} writes:\n<message>${input.event.message}</message>` }],
    repair: repairTurn('Answer again through propose_credit with every field valid.'),
    chain,
    budgets: Budgets.parse({}),
    ledger: emptyLedger(),
    callTimeout: '60s',
  });
  if (proposed.status !== 'ok' || !proposed.value.grant) {
    state.outcome = 'declined';
    enter('completed');
    return state;
  }
  state.proposal = proposed.value;

  const outcome = await governedToolCall(
    {
      tools: TOOLS,
      actor: ACTOR,
      leases: new Leases(),
      leaseOptions: { wait: '1m', ttl: '5m' },
      // The policy says who may approve; the gate holds the call until one of them answers or the deadline passes.
      async approve(request) {
        state.pending = { stepId: request.stepId, approvers: request.approvers, deadline: deadlineAfter(input.config.approvalDeadlineMs) };
        enter('awaiting_approval');
        const answer = await gate.wait(request.stepId, { approvers: request.approvers, deadline: input.config.approvalDeadlineMs, info: request });
        state.pending = null;
        enter('crediting');
        return answer.decided ? { approved: answer.decision.approved, approver: answer.decision.reviewerId } : { approved: false, approver: null };
      },
    },
    {
      step: stepId('issue_credit'),
      action: 'issue_credit',
      tool: 'issue_credit',
      args: { customerId: input.event.customer_id, amountCents: proposed.value.amountCents, reason: proposed.value.reason },
    },
  );
  if (outcome.status !== 'invalid_args') state.evidence.push(outcome.evidence);
  state.outcome = outcome.status === 'done' ? 'credited' : outcome.status === 'rejected' ? 'rejected' : 'failed';
  enter('completed');
  return state;
}

/** Every workflow of this module, for the `governor` CLI: `governor --workflows dist/credit-request.js start event.json`. */
export const workflows = [creditWorkflow];
