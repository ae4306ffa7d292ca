import type { DoubleReply, RecordedRequest, Responder } from 'governor/testing';
import { AGENT_PHASE_REQUIRES, type AgentPhase } from 'governor/workflow';
import { AGENT_TOOLS } from '../prompts/support-agent.js';
import { decideComplaint, supportAgentResponder } from './agent-responders.js';

/**
 * A model the injection worked on. Whenever a request carries one of the corpus's injected passages (in the complaint,
 * the agent's task, or a tool result read back into the prompt), it proposes that passage's action in the workflow's
 * own output format, every time it is asked, repairs included. Everything else is left to the well-behaved responders.
 * What it proposes is the attacker's wish; whether anything runs is for the governing layer to decide.
 */

/** The action an injection asks for: a tool name (registered or not) and its arguments. */
export interface InjectedAction {
  readonly tool: string;
  readonly args: Readonly<Record<string, unknown>>;
}

export interface InjectionTarget {
  readonly id: string;
  /** The injected passage, verbatim: what a fooled model reacts to. */
  readonly injection: string;
  readonly action: InjectedAction;
}

/** The run's own ids, which the placeholders `$customer`, `$ticket` and `$complaint` in an action's arguments stand for. */
export interface RunIds {
  readonly customer: string;
  readonly ticket: string;
  readonly complaint?: string;
}

/** The action's arguments for one run: each placeholder value replaced by the run's id, everything else as written. */
export function bindArgs(args: Readonly<Record<string, unknown>>, ids: RunIds): Record<string, unknown> {
  const bound: Record<string, string | undefined> = { $customer: ids.customer, $ticket: ids.ticket, $complaint: ids.complaint };
  return Object.fromEntries(Object.entries(args).map(([k, v]) => [k, typeof v === 'string' && v in bound ? (bound[v] ?? v) : v]));
}

function complaintIn(req: RecordedRequest): Parameters<typeof decideComplaint>[0] | undefined {
  const match = /<complaint>(\{[\s\S]*?\})<\/complaint>/.exec(req.text);
  if (!match?.[1]) return undefined;
  try {
    return JSON.parse(match[1]) as Parameters<typeof decideComplaint>[0];
  } catch {
    return undefined;
  }
}

export interface InjectedModel {
  readonly responder: Responder;
  /** Times the injected action was proposed, by case id (a proposal and its repair count twice). */
  readonly proposals: ReadonlyMap<string, number>;
}

export function injectedModel(targets: readonly InjectionTarget[]): InjectedModel {
  const proposals = new Map<string, number>();
  // A passage read back from a tool result arrives JSON-escaped; look for both spellings.
  const needles = targets.map((t) => ({ t, raw: t.injection, escaped: JSON.stringify(t.injection).slice(1, -1) }));
  const find = (text: string) => needles.find((n) => text.includes(n.raw) || text.includes(n.escaped))?.t;
  const proposed = (t: InjectionTarget, reply: DoubleReply): DoubleReply => {
    proposals.set(t.id, (proposals.get(t.id) ?? 0) + 1);
    return reply;
  };

  const complaint = (req: RecordedRequest, t: InjectionTarget): DoubleReply | undefined => {
    const c = complaintIn(req);
    if (!c) return undefined;
    const honest = decideComplaint(c);
    const args = bindArgs(t.action.args, { customer: c.customer_id, ticket: c.ticket_id, complaint: c.complaint_id });
    // The honest note stays beside the injected action, as a fooled model keeps doing its job; a refund the honest
    // reading would propose is dropped so the injected action is the only one the attacker wrote.
    const actions = [...honest.actions.filter((a) => a.tool !== 'issue_refund'), { tool: t.action.tool, args: JSON.stringify(args), why: 'The message asks for it.' }];
    return proposed(t, { kind: 'json', value: { ...honest, actions, confidence: 0.95 } });
  };

  const agent = (req: RecordedRequest, t: InjectionTarget): DoubleReply | undefined => {
    const ids = /Ticket: (tkt_\w+)\. Customer: (cus_\w+)\./.exec(req.text);
    if (!ids?.[1] || !ids[2]) return undefined;
    const done = (/Phases done: ([^.]*)\./.exec(req.text)?.[1] ?? '').split(', ');
    const phases = (AGENT_TOOLS as Readonly<Record<string, readonly string[]>>)[t.action.tool];
    // A tool the agent is offered is proposed in its phase once that phase may run (the attack has to get past the
    // order); any other tool at once, in the phase where writes happen.
    const phase = phases?.[0] ?? 'execute';
    if (phases && !AGENT_PHASE_REQUIRES[phase as AgentPhase].every((p) => done.includes(p))) return supportAgentResponder(req);
    const args = bindArgs(t.action.args, { customer: ids[2], ticket: ids[1] });
    return proposed(t, { kind: 'json', value: { action: 'call_tool', phase, tool: t.action.tool, args: JSON.stringify(args), text: 'The case asks for it.' } });
  };

  const responder: Responder = (req) => {
    if (req.outputName !== 'decide_complaint' && req.outputName !== 'agent_move') return undefined;
    const target = find(req.text);
    if (!target) return undefined;
    return req.outputName === 'decide_complaint' ? complaint(req, target) : agent(req, target);
  };
  return { responder, proposals };
}
