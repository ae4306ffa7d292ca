import { continueAsNew, workflowInfo } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { z } from 'zod';
import type { Budgets, Ledger } from '../contracts/budget.js';
import { planContext, type ContextBudget, type ContextPlan } from '../contracts/context.js';
import type { ChatMessage, ModelRef } from '../contracts/model.js';
import { stepId } from '../contracts/ids.js';
import { countContextTokens } from './context.js';
import type { TokenCountRequest } from '../activities/tokens.js';
import { governedModelStep, isRegisteredPrompt, promptRefOf, type StepPrompt } from './model-step.js';
import { jsonSchemaOf, repairTurn } from './prompt.js';
import { governedToolCall, type ToolStepContext } from './tool-step.js';

/**
 * The order an agent's work takes (resolve the target, read its current state, gather more, prepare a plan, execute,
 * confirm): a move out of order is refused and the model told why, so no write happens before a read and a plan.
 */
export const AGENT_PHASES = ['resolve', 'read', 'gather', 'prepare', 'execute', 'confirm'] as const;
export type AgentPhase = (typeof AGENT_PHASES)[number];

/** What must have happened before a move in each phase. */
export const AGENT_PHASE_REQUIRES: Readonly<Record<AgentPhase, readonly AgentPhase[]>> = {
  resolve: [],
  read: ['resolve'],
  gather: ['read'],
  prepare: ['read'],
  execute: ['read', 'prepare'],
  confirm: ['execute'],
};

/** One move of the model: a tool call in a phase, a plan (the prepare phase), or the final answer. */
export const AgentMove = z.strictObject({
  action: z.enum(['call_tool', 'plan', 'finish']).describe('call_tool: run one tool; plan: state the plan before executing; finish: the final answer.'),
  phase: z.enum(AGENT_PHASES).describe('The phase this move belongs to.'),
  tool: z.string().max(100).describe('The tool to call (call_tool only; empty otherwise).'),
  args: z.string().max(4000).describe("The tool's arguments as a JSON object (call_tool only; empty otherwise)."),
  text: z.string().max(4000).describe('The plan (plan), the final answer (finish), or why this call (call_tool).'),
});
export type AgentMove = z.infer<typeof AgentMove>;

/** The structured summary older turns are folded into: it replaces them in the context, never the pinned facts. */
export const AgentSummary = z.strictObject({
  facts: z.array(z.string().max(300)).max(30).describe('What has been established, one fact per entry.'),
  progress: z.string().max(1000).describe('What has been done so far, in order.'),
  open: z.array(z.string().max(300)).max(10).describe('What is still open.'),
});
export type AgentSummary = z.infer<typeof AgentSummary>;

/**
 * Why an agent stopped. `invalid_move`: the model's move was still invalid after its repairs; `model_refused`: the
 * model declined; `model_unavailable`: no model of the chain answered.
 */
export type AgentStop = 'finished' | 'max_turns' | 'budget_exceeded' | 'model_unavailable' | 'model_refused' | 'invalid_move' | 'over_context_budget' | 'loop';

/** One turn, as the `state` query shows it: each turn is a visible step. */
export interface AgentTurn {
  readonly n: number;
  readonly phase: AgentPhase;
  readonly action: AgentMove['action'] | 'refused' | 'replan';
  readonly tool: string | null;
  /** done, denied, rejected, failed, invalid_args (tool calls); refused (out of order); invalid (a move still invalid after its repairs); ok (plan, finish). */
  readonly status: string;
  readonly detail: string;
  readonly evidenceId: string | null;
  /** The context this turn's move was chosen with: its tokens, and how many turns were kept, summarised, dropped. */
  readonly context?: { readonly tokens: number; readonly kept: number; readonly summarised: number; readonly dropped: number };
}

/** A turn as the context keeps it: its text for the model, its tokens (counted once), its worth. */
interface ContextEntry {
  readonly id: string;
  readonly text: string;
  readonly tokens: number;
  readonly value: 'high' | 'low';
}

/** What a continued run carries: everything the next turn needs, nothing the history already holds. */
export interface AgentCarry {
  readonly turn: number;
  readonly pinned: readonly string[];
  readonly summary: AgentSummary | null;
  readonly summaryTokens: number;
  readonly context: readonly ContextEntry[];
  readonly phasesDone: readonly AgentPhase[];
  readonly replans: number;
  readonly folded: { readonly summarised: number; readonly dropped: number };
  /** What the earlier runs spent, for the agent's total budget (each run has its own ledger and per-run budgets). */
  readonly spent: AgentSpend;
  /** The runs before this one, oldest first: a run is followed across its continued runs. */
  readonly previousRuns: readonly string[];
}

export interface AgentSpend {
  readonly usd: number;
  readonly tokens: number;
  readonly modelCalls: number;
}

export interface AgentState {
  turn: number;
  phasesDone: AgentPhase[];
  /** The turns of this run (earlier runs' turns are in their own histories). */
  turns: AgentTurn[];
  pinned: readonly string[];
  summary: AgentSummary | null;
  /** The last context plan: what was sent verbatim, summarised and dropped, and its tokens. */
  context: { plan: ContextPlan; fixedTokens: number; method: string } | null;
  replans: number;
  /** Spent by every run of the agent so far, this one included. */
  spent: AgentSpend;
  /** Turns folded into the summary and turns dropped, over the agent's life. */
  folded: { summarised: number; dropped: number };
  stop: AgentStop | null;
  answer: string | null;
  previousRuns: readonly string[];
}

export interface AgentOptions {
  /** The prompt of the move step; its output is `AgentMove` (see `agentMovePrompt`). */
  readonly prompt: StepPrompt;
  /** The summarisation step's prompt; its output is `AgentSummary`. */
  readonly summaryPrompt: StepPrompt;
  /** The task, stated once. */
  readonly task: string;
  /** Facts never summarised or dropped (a case reference, the customer, a constraint). */
  readonly pinned: readonly string[];
  /** The tools the agent may use and the phases each may be used in. */
  readonly tools: Readonly<Record<string, readonly AgentPhase[]>>;
  readonly toolContext: ToolStepContext;
  readonly chain: readonly ModelRef[];
  /** Per-run bounds of the model steps (each continued run starts a fresh ledger). */
  readonly budgets: Budgets;
  readonly ledger: Ledger;
  /** The agent's bounds across every continued run. */
  readonly total: { readonly maxUsd: number; readonly maxTokens: number };
  readonly context: ContextBudget;
  /** Turns across every continued run; the agent stops at this many. */
  readonly maxTurns: number;
  /** Loops broken by resetting the context and replanning before the agent stops and asks a person. */
  readonly maxReplans: number;
  /** Continue as new after this many turns in one run (and whenever the server suggests it). */
  readonly turnsPerRun: number;
  readonly callTimeout: Duration;
  /** The state object the workflow's `state` query returns; the agent fills it. */
  readonly state: AgentState;
  /** What the previous run carried over (absent in the first run). */
  readonly carry?: AgentCarry;
  /** The workflow's next input, given what to carry: `continueAsNew` is called with it at a turn boundary. */
  readonly continueWith: (carry: AgentCarry) => unknown;
  /**
   * A loop replanning did not break: ask a person (a `DecisionGate` wait, usually). Their guidance is pinned and the
   * agent goes on with a fresh allowance of replans; null (nobody answered in time) stops it with `loop`.
   */
  readonly askPerson?: (why: string) => Promise<{ readonly by: string; readonly guidance: string } | null>;
}

/** The state of an agent that has not started: for the workflow's `state` query before the first turn. */
export function emptyAgentState(carry?: AgentCarry): AgentState {
  return {
    turn: carry?.turn ?? 0,
    phasesDone: [...(carry?.phasesDone ?? [])],
    turns: [],
    pinned: carry?.pinned ?? [],
    summary: carry?.summary ?? null,
    context: null,
    replans: carry?.replans ?? 0,
    spent: carry?.spent ?? { usd: 0, tokens: 0, modelCalls: 0 },
    folded: { ...(carry?.folded ?? { summarised: 0, dropped: 0 }) },
    stop: null,
    answer: null,
    previousRuns: carry?.previousRuns ?? [],
  };
}

/** The JSON schema of a move, for the move prompt's structured output. */
export const agentMoveSchema = (): Record<string, unknown> => jsonSchemaOf(AgentMove);
export const agentSummarySchema = (): Record<string, unknown> => jsonSchemaOf(AgentSummary);

/**
 * A bounded tool-using agent: each turn the model chooses one move; the workflow checks its order, runs the tool
 * through the governed tool call (policy, approval, lease, evidence), records the turn as a visible step, and plans
 * the next turn's context under the budget (pinned facts always, recent turns verbatim, older ones summarised by a
 * governed step, low-value detail dropped). Stops on `finish`, the turn cap, the run's budgets, an unusable model, a
 * context that cannot fit, or a loop it could not break by replanning. Continues as new between turns, carrying
 * only what the next turn needs, so no run's history grows past `turnsPerRun` turns.
 */
/** The system prompt of a token count: its text, or the registered version that holds it. */
function systemOf(prompt: StepPrompt): Pick<TokenCountRequest, 'system' | 'prompt'> {
  return isRegisteredPrompt(prompt) ? { prompt: promptRefOf(prompt) } : { system: prompt.system };
}

export async function runAgent(o: AgentOptions): Promise<AgentState> {
  const s = o.state;
  let context: ContextEntry[] = [...(o.carry?.context ?? [])];
  let summaryTokens = o.carry?.summaryTokens ?? 0;
  const pinned: string[] = [...(o.carry?.pinned ?? o.pinned)];
  const pinnedTextOf = () => `Task: ${o.task}\nPinned facts (always true, never dropped):\n${pinned.map((p) => `- ${p}`).join('\n')}`;
  let pinnedText = pinnedTextOf();
  s.pinned = [...pinned];
  let fixed = await countContextTokens({ model: o.chain[0]!, ...systemOf(o.prompt), messages: [{ role: 'user', content: pinnedText }] });
  const recentFailures: string[] = [];
  const recentMoves: string[] = [];
  let turnsThisRun = 0;

  const remember = async (n: number, text: string, value: 'high' | 'low') => {
    const counted = await countContextTokens({ model: o.chain[0]!, messages: [{ role: 'user', content: text }] });
    context.push({ id: `t${n}`, text, tokens: counted.tokens, value });
  };

  const before: AgentSpend = o.carry?.spent ?? { usd: 0, tokens: 0, modelCalls: 0 };
  const total = (): AgentSpend => ({
    usd: before.usd + o.ledger.usd,
    tokens: before.tokens + o.ledger.inputTokens + o.ledger.outputTokens,
    modelCalls: before.modelCalls + o.ledger.modelCalls,
  });

  const end = (why: AgentStop): AgentState => {
    s.spent = total();
    s.stop = why;
    return s;
  };

  for (;;) {
    s.spent = total();
    if (s.turn >= o.maxTurns) return end('max_turns');
    if (s.spent.usd >= o.total.maxUsd || s.spent.tokens >= o.total.maxTokens) return end('budget_exceeded');
    // A turn boundary: continue as new when this run has done its share, or the server says history is long.
    if (turnsThisRun >= o.turnsPerRun || (turnsThisRun > 0 && workflowInfo().continueAsNewSuggested)) {
      const carry: AgentCarry = {
        turn: s.turn,
        pinned,
        summary: s.summary,
        summaryTokens,
        context,
        phasesDone: s.phasesDone,
        replans: s.replans,
        folded: s.folded,
        spent: total(),
        previousRuns: [...s.previousRuns, workflowInfo().runId],
      };
      await continueAsNew(o.continueWith(carry));
    }

    // Plan this turn's context.
    const plan = planContext(o.context, { fixedTokens: fixed.tokens, summaryTokens, turns: context });
    if (plan.overBudget) return end('over_context_budget');
    if (plan.summarise.length > 0) {
      const folded = context.filter((c) => plan.summarise.includes(c.id));
      const summarised = await governedModelStep({
        step: `summarise_t${s.turn + 1}`,
        prompt: o.summaryPrompt,
        schema: AgentSummary,
        rules: [],
        messages: [{ role: 'user', content: `${pinnedText}\n\nSummary so far: ${JSON.stringify(s.summary)}\n\nTurns to fold in:\n${folded.map((c) => c.text).join('\n')}` }],
        repair: repairTurn('Answer again through the summary tool with every field valid.'),
        chain: o.chain,
        budgets: o.budgets,
        ledger: o.ledger,
        callTimeout: o.callTimeout,
      });
      if (summarised.status === 'ok') {
        s.summary = summarised.value;
        summaryTokens = (await countContextTokens({ model: o.chain[0]!, messages: [{ role: 'user', content: JSON.stringify(s.summary) }] })).tokens;
      }
      // Folded or not, the turns leave the context: an unusable summary step must not grow it past the budget.
    }
    context = context.filter((c) => plan.keep.includes(c.id));
    s.folded.summarised += plan.summarise.length;
    s.folded.dropped += plan.drop.length;
    s.context = { plan, fixedTokens: fixed.tokens, method: fixed.method };

    // The move.
    const n = s.turn + 1;
    const messages: ChatMessage[] = [
      {
        role: 'user',
        content: [
          pinnedText,
          s.summary ? `Summary of earlier turns: ${JSON.stringify(s.summary)}` : '',
          context.length > 0 ? `Recent turns:\n${context.map((c) => c.text).join('\n')}` : '',
          `Phases done: ${s.phasesDone.join(', ') || 'none'}. Tools by phase: ${JSON.stringify(o.tools)}.`,
          `Turn ${n}: choose the next move.`,
        ]
          .filter(Boolean)
          .join('\n\n'),
      },
    ];
    const moved = await governedModelStep({
      step: `move_t${n}`,
      prompt: o.prompt,
      schema: AgentMove,
      rules: [
        { id: 'tool-named', check: (m) => (m.action === 'call_tool' && !o.tools[m.tool] ? { field: 'tool', rule: `must be one of ${Object.keys(o.tools).join(', ')}` } : null) },
        { id: 'plan-is-prepare', check: (m) => (m.action === 'plan' && m.phase !== 'prepare' ? { field: 'phase', rule: 'a plan is the prepare phase' } : null) },
      ],
      messages,
      repair: repairTurn('Answer again through the move tool with every field valid.'),
      chain: o.chain,
      budgets: o.budgets,
      ledger: o.ledger,
      callTimeout: o.callTimeout,
    });
    if (moved.status === 'budget_exceeded') return end('budget_exceeded');
    const turnContext = { tokens: plan.tokens, kept: plan.keep.length, summarised: plan.summarise.length, dropped: plan.drop.length };
    if (moved.status === 'needs_review') {
      // A move still invalid after its repairs (a tool the agent is not offered, say) stops the agent; what it tried
      // and the rule it broke stay in the state, as a refused turn, not only in the model step's history.
      s.turn = n;
      s.turns.push({ n, context: turnContext, phase: s.phasesDone.at(-1) ?? 'resolve', action: 'refused', tool: null, status: 'invalid', detail: moved.detail.slice(0, 300), evidenceId: null });
    }
    if (moved.status !== 'ok') return end(moved.status === 'needs_review' ? 'invalid_move' : moved.status === 'refused' ? 'model_refused' : 'model_unavailable');
    const move = moved.value;
    s.turn = n;
    turnsThisRun += 1;

    // The order: a move whose phase's prerequisites are not done is refused, and the model is told.
    const missing = AGENT_PHASE_REQUIRES[move.phase].filter((p) => !s.phasesDone.includes(p));
    const toolPhases = move.action === 'call_tool' ? (o.tools[move.tool] ?? []) : [];
    if (missing.length > 0 || (move.action === 'call_tool' && !toolPhases.includes(move.phase))) {
      const detail = missing.length > 0 ? `${move.phase} needs ${missing.join(' and ')} first` : `${move.tool} is not a ${move.phase} tool (it is ${toolPhases.join(', ')})`;
      s.turns.push({ n, context: turnContext, phase: move.phase, action: 'refused', tool: move.tool || null, status: 'refused', detail, evidenceId: null });
      // A refusal matters for the next move, not once the agent has moved on.
      await remember(n, `Turn ${n}: ${move.action} ${move.tool} refused: ${detail}.`, 'low');
      if (await loopCheck(`refused:${move.phase}:${move.tool}`, false)) return end('loop');
      continue;
    }
    if (move.action === 'finish') {
      const unconfirmed = s.phasesDone.includes('execute') && !s.phasesDone.includes('confirm');
      if (unconfirmed) {
        s.turns.push({ n, context: turnContext, phase: move.phase, action: 'refused', tool: null, status: 'refused', detail: 'an executed change must be confirmed before finishing', evidenceId: null });
        await remember(n, `Turn ${n}: finish refused: confirm the executed change first.`, 'high');
        continue;
      }
      s.turns.push({ n, context: turnContext, phase: move.phase, action: 'finish', tool: null, status: 'ok', detail: move.text.slice(0, 300), evidenceId: null });
      s.answer = move.text;
      return end('finished');
    }
    if (move.action === 'plan') {
      markDone(s, 'prepare');
      s.turns.push({ n, context: turnContext, phase: 'prepare', action: 'plan', tool: null, status: 'ok', detail: move.text.slice(0, 300), evidenceId: null });
      await remember(n, `Turn ${n}: plan: ${move.text}`, 'high');
      if (await loopCheck(`plan:${move.text}`, true)) return end('loop');
      continue;
    }

    let args: unknown;
    try {
      args = JSON.parse(move.args || '{}');
    } catch {
      args = move.args;
    }
    const outcome = await governedToolCall(o.toolContext, { step: stepId(`${move.phase}_${move.tool}`, n), action: `agent_${move.phase}`, tool: move.tool, args });
    const done = outcome.status === 'done';
    if (done) markDone(s, move.phase);
    const detail =
      outcome.status === 'done'
        ? JSON.stringify(outcome.result).slice(0, 1500)
        : outcome.status === 'invalid_args'
          ? outcome.issues.map((i) => `${i.field}: ${i.rule}`).join('; ')
          : outcome.status === 'failed'
            ? outcome.detail
            : outcome.reason;
    s.turns.push({ n, context: turnContext, phase: move.phase, action: 'call_tool', tool: move.tool, status: outcome.status, detail: detail.slice(0, 300), evidenceId: outcome.status === 'invalid_args' ? null : outcome.evidence.evidenceId });
    // What a call established is material for the summary once old; a failed call, or a confirming re-read, is detail
    // that can go.
    await remember(n, `Turn ${n}: ${move.phase} ${move.tool}(${move.args}) → ${outcome.status}: ${detail}`, done && move.phase !== 'confirm' ? 'high' : 'low');
    if (await loopCheck(`${move.tool}:${signatureOf(args)}`, done)) return end('loop');
  }

  /**
   * A loop: the same failing call twice in a row, or the same move three times in the last six. Broken by clearing
   * the recent turns (pinned facts and the summary stay) and telling the model to replan, at most `maxReplans` times.
   */
  async function loopCheck(signature: string, succeeded: boolean): Promise<boolean> {
    recentMoves.push(signature);
    if (recentMoves.length > 6) recentMoves.shift();
    if (!succeeded) recentFailures.push(signature);
    else recentFailures.length = 0;
    const failingAgain = recentFailures.length >= 2 && recentFailures.at(-1) === recentFailures.at(-2);
    const repeating = recentMoves.filter((m) => m === signature).length >= 3;
    if (!failingAgain && !repeating) return false;
    if (s.replans >= o.maxReplans) {
      const asked = o.askPerson ? await o.askPerson(`the agent keeps looping on ${signature} after ${s.replans} replan(s)`) : null;
      if (!asked) return true;
      // The person's word becomes a pinned fact: never summarised away, in every turn from here on.
      pinned.push(`Guidance from ${asked.by}: ${asked.guidance}`);
      s.pinned = [...pinned];
      pinnedText = pinnedTextOf();
      fixed = await countContextTokens({ model: o.chain[0]!, ...systemOf(o.prompt), messages: [{ role: 'user', content: pinnedText }] });
      s.turns.push({ n: s.turn, phase: s.phasesDone.at(-1) ?? 'resolve', action: 'replan', tool: null, status: 'guided', detail: `${asked.by}: ${asked.guidance.slice(0, 200)}`, evidenceId: null });
      s.replans = 0;
      recentFailures.length = 0;
      recentMoves.length = 0;
      context = [];
      return false;
    }
    s.replans += 1;
    recentFailures.length = 0;
    recentMoves.length = 0;
    context = [];
    const n = s.turn;
    s.turns.push({ n, phase: s.phasesDone.at(-1) ?? 'resolve', action: 'replan', tool: null, status: 'replan', detail: `loop on ${signature}: context reset, replanning (${s.replans} of ${o.maxReplans})`, evidenceId: null });
    await remember(n, `Turn ${n}: you were looping on ${signature}. Do something different: replan from the summary and the pinned facts.`, 'high');
    return false;
  }
}

/** The same arguments, whatever their key order: for spotting a repeated call. */
function signatureOf(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(signatureOf).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value as Record<string, unknown>)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${signatureOf((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function markDone(s: AgentState, phase: AgentPhase): void {
  if (!s.phasesDone.includes(phase)) s.phasesDone.push(phase);
}
