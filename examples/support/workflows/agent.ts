import { patched, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { Budgets, type ModelRef } from 'governor';
import { DecisionGate, deadlineAfter, emptyAgentState, emptyLedger, governorSearchAttributes, Leases, runAgent, type AgentState, type ToolStepContext } from 'governor/workflow';
import { AgentGuidance, type AgentInput } from '../contracts/agent.js';
import { ApprovalDecision, type PendingApproval } from '../contracts/complaint.js';
import { agentApprovalUpdate, agentGuideUpdate, agentStateQuery, type AgentApprovalAccepted, type SupportAgentState } from '../messages.js';
import { AGENT_TOOLS, agentMovePrompt, agentSummaryPrompt } from '../prompts/support-agent.js';
import { SUPPORT_TOOLS } from '../tools.js';

/** The actor the policy knows the support agent as: it may read tickets and customers and write notes. */
export const AGENT_ACTOR = 'agent:support-investigator';

/**
 * `support_agent.requested` → a bounded tool-using agent investigates the case: the model picks one move per turn, the
 * workflow enforces the order (resolve → read → gather → prepare → execute → confirm), runs every tool through the
 * governed tool call, keeps the context under its budget and continues as new every `turnsPerRun` turns.
 */
export async function supportAgent(input: AgentInput): Promise<SupportAgentState> {
  const { event, config, carry } = input;
  // Asked first, before any marker a local activity leaves: runs begun before the agent was held to its case replay
  // without the scope.
  const caseScoped = patched('support-agent-case-scope');
  const chain: ModelRef[] = config.modelChain ?? [config.model ?? { provider: 'anthropic', model: 'claude-haiku-4-5' }];
  const agent: AgentState = emptyAgentState(carry);
  const state: SupportAgentState = { workflowId: workflowInfo().workflowId, runId: workflowInfo().runId, ticketId: event.ticket_id, agent, pendingApprovals: [], awaitingGuidance: null };
  setHandler(agentStateQuery, () => state);
  upsertSearchAttributes([
    { key: governorSearchAttributes.phase, value: 'working' },
    { key: governorSearchAttributes.awaitingReview, value: false },
  ]);

  // Held actions (the policy decides which) wait for an approver, as in every governed workflow.
  const approvals = new DecisionGate<ApprovalDecision, AgentApprovalAccepted, PendingApproval>({
    update: agentApprovalUpdate,
    schema: ApprovalDecision,
    keyOf: (d) => d.stepId,
    reviewerOf: (d) => d.reviewerId,
    accept: (d) => ({ status: 'accepted', stepId: d.stepId, approved: d.approved, reviewerId: d.reviewerId }),
  });
  // An agent that loops past its replans asks a person; their guidance is pinned for every turn after.
  const guidance = new DecisionGate<AgentGuidance, { readonly status: 'accepted'; readonly reviewerId: string }>({
    update: agentGuideUpdate,
    schema: AgentGuidance,
    keyOf: () => 'guide',
    reviewerOf: (g) => g.reviewerId,
    accept: (g) => ({ status: 'accepted', reviewerId: g.reviewerId }),
  });
  let asked = 0;
  const askPerson = async (why: string) => {
    asked += 1;
    state.awaitingGuidance = { reason: why, guides: config.guides, deadline: deadlineAfter(config.guideDeadline as Duration) };
    upsertSearchAttributes([
      { key: governorSearchAttributes.phase, value: 'awaiting_human' },
      { key: governorSearchAttributes.awaitingReview, value: true },
    ]);
    const answer = await guidance.wait(`guide`, { approvers: config.guides, deadline: config.guideDeadline as Duration, info: null });
    state.awaitingGuidance = null;
    upsertSearchAttributes([
      { key: governorSearchAttributes.phase, value: 'working' },
      { key: governorSearchAttributes.awaitingReview, value: false },
    ]);
    return answer.decided ? { by: answer.decision.reviewerId, guidance: answer.decision.guidance } : null;
  };
  // The agent acts for one case: it writes only the case's ticket and reads only the case's customer. Other tickets it
  // may read (the related tickets a task lists); a tool result or a task that steers it anywhere else is denied.
  const own = new Set([`ticket:${event.ticket_id}`, `customer:${event.customer_id}`, `complaints:${event.customer_id}`]);
  const inScope = (resource: string, kind: 'read' | 'write') => own.has(resource) || (kind === 'read' && resource.startsWith('ticket:'));
  const toolContext: ToolStepContext = {
    tools: SUPPORT_TOOLS,
    actor: AGENT_ACTOR,
    leases: new Leases(),
    leaseOptions: { wait: '2m', ttl: '5m' },
    ...(caseScoped ? { inScope } : {}),
    async approve(req) {
      const pending: PendingApproval = { stepId: req.stepId, tool: req.tool, args: req.args, rule: req.rule, reason: req.reason, approvers: req.approvers, deadline: deadlineAfter(config.approvalDeadline as Duration) };
      state.pendingApprovals.push(pending);
      upsertSearchAttributes([{ key: governorSearchAttributes.awaitingReview, value: true }]);
      const answer = await approvals.wait(req.stepId, { approvers: req.approvers, deadline: config.approvalDeadline as Duration, info: pending });
      state.pendingApprovals = state.pendingApprovals.filter((p) => p.stepId !== req.stepId);
      upsertSearchAttributes([{ key: governorSearchAttributes.awaitingReview, value: false }]);
      return answer.decided ? { approved: answer.decision.approved, approver: answer.decision.reviewerId } : { approved: false, approver: null };
    },
  };

  await runAgent({
    prompt: agentMovePrompt,
    summaryPrompt: agentSummaryPrompt,
    task: `${event.task}\nTicket: ${event.ticket_id}. Customer: ${event.customer_id}.`,
    pinned: [`Ticket ${event.ticket_id}, customer ${event.customer_id}.`, ...event.pinned],
    tools: AGENT_TOOLS,
    toolContext,
    chain,
    budgets: Budgets.parse(config.budgets),
    ledger: emptyLedger(),
    total: { maxUsd: config.maxUsd, maxTokens: config.maxTokens },
    context: config.context,
    maxTurns: config.maxTurns,
    maxReplans: config.maxReplans,
    turnsPerRun: config.turnsPerRun,
    callTimeout: config.modelCallTimeout as Duration,
    state: agent,
    ...(carry ? { carry } : {}),
    continueWith: (next) => ({ event, config, carry: next }),
    // Asked once per run: a second loop in the same run, after guidance, stops the agent.
    askPerson: (why) => (asked === 0 ? askPerson(why) : Promise.resolve(null)),
  });
  upsertSearchAttributes([{ key: governorSearchAttributes.phase, value: 'completed' }]);
  return state;
}
