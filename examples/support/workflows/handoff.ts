import { executeChild, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { Budgets, stepId, type Handoff } from 'governor';
import { emptyLedger, governedModelStep, governedToolCall, Leases, stepPrompt, type ToolStepContext } from 'governor/workflow';
import type { Activities } from 'governor/worker';
import { Analysis, type AnalystInput, type AnalystResult, type HandoffInput, type HandoffState } from '../contracts/handoff.js';
import { analysisJsonSchema, datasetAnalyst as spec, renderAnalystMessages, renderAnalystRepair } from '../prompts/dataset-analyst.js';
import { handoffStateQuery } from '../messages.js';
import { SUPPORT_TOOLS } from '../tools.js';

const { verifyHandoff } = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', maximumInterval: '5s', maximumAttempts: 5 },
});

export const RESEARCH_AGENT = 'agent:research';
export const ANALYST_AGENT = 'agent:analyst';

/** Neither agent has actions a human must approve; a call that would need one is refused instead of waiting. */
function agentTools(actor: string): ToolStepContext {
  return {
    tools: SUPPORT_TOOLS,
    actor,
    leases: new Leases(),
    leaseOptions: { wait: '2m', ttl: '5m' },
    approve: async () => ({ approved: false, approver: null, note: `${actor} runs unattended` }),
  };
}

/**
 * The research agent: collects a dataset through a tool and hands it over as a typed artifact whose status comes
 * from the evidence record, not from anything the agent says about it.
 */
export async function researchAgent(input: { task: string; category: string; limit: number }): Promise<Handoff> {
  const collected = await governedToolCall(agentTools(RESEARCH_AGENT), {
    step: stepId('collect_dataset'),
    action: 'collect_dataset',
    tool: 'collect_dataset',
    args: { category: input.category, limit: input.limit },
  });
  const result = collected.status === 'done' ? (collected.result as { artifactId: string; scope: string }) : null;
  return {
    from: RESEARCH_AGENT,
    to: ANALYST_AGENT,
    task: input.task,
    artifactId: result?.artifactId ?? 'none',
    evidenceId: collected.status === 'invalid_args' ? 'none' : collected.evidence.evidenceId,
    status: collected.status === 'done' && collected.evidence.status === 'success' ? 'verified' : 'unverified',
    scope: result?.scope ?? `category:${input.category}`,
  };
}

/**
 * The analyst agent: verifies the handoff against the evidence store before touching the artifact; an unverified
 * handoff is refused with the reason and nothing else happens.
 */
export async function analystAgent(input: AnalystInput): Promise<AnalystResult> {
  const verdict = await verifyHandoff({ handoff: input.handoff, expected: input.expected });
  if (!verdict.ok) return { status: 'refused', reason: verdict.reason };
  const handoff = input.handoff as Handoff;
  const read = await governedToolCall(agentTools(ANALYST_AGENT), {
    step: stepId('read_artifact'),
    action: 'read_artifact',
    tool: 'read_artifact',
    args: { artifactId: verdict.artifactId },
  });
  if (read.status !== 'done') return { status: 'failed', reason: `could not read ${verdict.artifactId}: ${read.status}` };
  const artifact = read.result as { contentHash: string; content: unknown };
  // The artifact read now must be the one the evidence vouched for.
  if (artifact.contentHash !== verdict.contentHash) return { status: 'refused', reason: `artifact ${verdict.artifactId} changed after the handoff was verified` };
  const budgets = Budgets.parse({});
  const analysed = await governedModelStep({
    step: 'analyse',
    prompt: stepPrompt(spec, analysisJsonSchema),
    schema: Analysis,
    rules: [],
    messages: renderAnalystMessages(handoff.task, verdict.scope, artifact.content),
    repair: renderAnalystRepair,
    chain: [{ provider: 'anthropic', model: spec.models.anthropic }],
    budgets,
    ledger: emptyLedger(),
    callTimeout: '60s' as Duration,
  });
  if (analysed.status !== 'ok') return { status: 'failed', reason: `analysis ${analysed.status}: ${'detail' in analysed ? analysed.detail : ''}` };
  return { status: 'analyzed', analysis: analysed.value, artifactId: verdict.artifactId, evidenceIds: [handoff.evidenceId, read.evidence.evidenceId] };
}

/** research → typed handoff → analyst, each agent a child workflow with its own history and actor. */
export async function agentHandoff(input: HandoffInput): Promise<AnalystResult> {
  const state: HandoffState = { phase: 'researching', handoff: null, result: null };
  setHandler(handoffStateQuery, () => state);
  const id = workflowInfo().workflowId;
  const task = `analyze_${input.category}_tickets`;
  state.handoff = await executeChild(researchAgent, { workflowId: `${id}/research`, args: [{ task, category: input.category, limit: input.limit }] });
  state.phase = 'analyzing';
  const result = await executeChild(analystAgent, {
    workflowId: `${id}/analyst`,
    args: [
      {
        handoff: state.handoff,
        expected: { receiver: ANALYST_AGENT, from: RESEARCH_AGENT, scope: `category:${input.category}`, senderWorkflowId: `${id}/research`, artifactTools: ['collect_dataset'] },
      },
    ],
  });
  state.result = result;
  state.phase = 'completed';
  return result;
}
