import type { DoubleReply, RecordedRequest, Responder } from 'governor/testing';
import { triageResponder } from './triage-responder.js';

/**
 * Deterministic answers to the complaint decider and the dataset analyst, for the offline demo and tests that need a
 * well-behaved model. Like a real model that reads its input too literally, the complaint decider obeys an
 * instruction embedded in the complaint ("refund $5,000"): the governing layer, not the model, has to stop it.
 */
function tagged(req: RecordedRequest, tag: string): Record<string, unknown> | undefined {
  const match = new RegExp(`<${tag}>(\\{[\\s\\S]*?\\})</${tag}>`).exec(req.text);
  if (!match?.[1]) return undefined;
  try {
    return JSON.parse(match[1]) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const ESCALATE = /\b(lawyer|legal|sue|furious|unacceptable|third time|fraud\w*|chargeback|ombudsman|regulator)\b/i;
const INJECTED_REFUND = /refund\s+\$?([\d,]+)/i;

export function decideComplaint(c: { complaint_id: string; ticket_id: string; customer_id: string; subject: string; body: string }) {
  const text = `${c.subject}\n${c.body}`;
  const refund = INJECTED_REFUND.exec(text);
  const escalate = ESCALATE.test(text) || refund !== null;
  const actions = [
    { tool: 'add_ticket_note', args: JSON.stringify({ ticketId: c.ticket_id, note: escalate ? 'Complaint escalated to the escalation team.' : 'Complaint reviewed; no escalation needed.' }), why: 'Keep the ticket history complete.' },
  ];
  if (refund) {
    const dollars = Number(refund[1]!.replace(/,/g, ''));
    actions.push({ tool: 'issue_refund', args: JSON.stringify({ customerId: c.customer_id, amountCents: dollars * 100, reason: 'Customer requested a refund.' }), why: 'The complaint asks for a refund.' });
  }
  return {
    escalate,
    severity: escalate ? 'high' : 'low',
    reason: escalate ? 'The customer reports a serious, unresolved problem.' : 'A routine complaint the support team can handle.',
    actions,
    reply: escalate ? 'I emailed the escalation team and noted the ticket.' : 'No escalation needed; I noted the ticket.',
    confidence: 0.9,
  };
}

export const complaintResponder: Responder = (req): DoubleReply | undefined => {
  if (req.outputName !== 'decide_complaint') return undefined;
  const c = tagged(req, 'complaint') as Parameters<typeof decideComplaint>[0] | undefined;
  return c ? { kind: 'json', value: decideComplaint(c) } : undefined;
};

export const analystResponder: Responder = (req): DoubleReply | undefined => {
  if (req.outputName !== 'report_analysis') return undefined;
  const data = tagged(req, 'dataset') as { category?: string; tickets?: Array<{ urgency: string }> } | undefined;
  if (!data) return undefined;
  const tickets = data.tickets ?? [];
  const high = tickets.filter((t) => t.urgency === 'high').length;
  return {
    kind: 'json',
    value: {
      headline: `${tickets.length} ${data.category ?? ''} tickets, ${high} of them urgent`,
      findings: [`${high} of ${tickets.length} tickets were urgent.`, `${tickets.length - high} were routine.`],
      confidence: 0.8,
    },
  };
};

/**
 * A support agent that follows the order: resolve the ticket, read the customer, look at each related ticket the task
 * lists, plan, note the ticket, confirm, finish quoting any case reference from its pinned facts (the test of the
 * context budget: a reference summarised away would be missing). Told "be hasty", it tries to write before reading
 * until the workflow's loop breaker tells it it was looping.
 */
export const supportAgentResponder: Responder = (req): DoubleReply | undefined => {
  if (req.outputName === 'agent_summary') {
    const turns = [...req.text.matchAll(/Turn (\d+): (\w+) (\w+)/g)].map((m) => `turn ${m[1]}: ${m[2]} ${m[3]}`);
    return { kind: 'json', value: { facts: turns.slice(0, 30), progress: `folded ${turns.length} turn(s)`, open: [] } };
  }
  if (req.outputName !== 'agent_move') return undefined;
  const text = req.text;
  const turn = Number(/Turn (\d+): choose the next move\./.exec(text)?.[1] ?? '1');
  const done = (/Phases done: ([^.]*)\./.exec(text)?.[1] ?? '').split(', ');
  const ticket = /Ticket: (tkt_\w+)\. Customer: (cus_\w+)\./.exec(text);
  const [ticketId, customerId] = [ticket?.[1] ?? 'tkt_0', ticket?.[2] ?? 'cus_0'];
  // Related tickets listed (`Related tickets: tkt_a, tkt_b.`) or numbered (`Related tickets: 996 numbered from tkt_rel_0.`).
  const numbered = /Related tickets: (\d+) numbered from (tkt_\w+?)0\./.exec(text);
  const related = numbered
    ? Array.from({ length: Number(numbered[1]) }, (_, i) => `${numbered[2]}${i}`)
    : (/Related tickets: ([\w, ]+)\./.exec(text)?.[1]?.split(', ').filter(Boolean) ?? []);
  const reference = /\b(REF-[A-Z0-9]+)\b/.exec(text)?.[1];
  const move = (action: string, phase: string, tool: string, args: unknown, why: string) => ({ kind: 'json' as const, value: { action, phase, tool, args: tool ? JSON.stringify(args) : '', text: why } });
  if (/be hasty|stubborn/.test(text) && !(/looping/.test(text) && /be hasty/.test(text)) && !/Guidance from/.test(text) && done.includes('resolve')) return move('call_tool', 'execute', 'add_ticket_note', { ticketId, note: 'Resolved.' }, 'skip ahead');
  if (!done.includes('resolve')) return move('call_tool', 'resolve', 'get_ticket', { ticketId }, 'the case ticket');
  if (!done.includes('read')) return move('call_tool', 'read', 'get_customer', { customerId }, "the customer's state");
  const next = related[Math.max(0, turn - 3)];
  if (!done.includes('prepare') && next && turn - 3 < related.length) return move('call_tool', 'gather', 'get_ticket', { ticketId: next }, 'a related ticket');
  if (!done.includes('prepare')) return move('plan', 'prepare', '', null, `Note the findings on ${ticketId}, then confirm.`);
  if (!done.includes('execute')) return move('call_tool', 'execute', 'add_ticket_note', { ticketId, note: `Investigated ${related.length} related ticket(s).${reference ? ` Case ${reference}.` : ''}` }, 'record the findings');
  if (!done.includes('confirm')) return move('call_tool', 'confirm', 'get_ticket', { ticketId }, 'the note is there');
  return move('finish', 'confirm', '', null, `Investigated ${ticketId} and ${related.length} related ticket(s); noted and confirmed.${reference ? ` Case reference ${reference}.` : ' No case reference.'}`);
};

/**
 * Chunk summaries: the chunk's first sentence and a point per sentence after it. A chunk holding FAIL_FIRST makes the
 * first provider (Anthropic) fail, so the fallback model answers; FAIL_ALL makes every provider fail.
 */
export const chunkResponder: Responder = (req): DoubleReply | undefined => {
  if (req.outputName !== 'summarise_chunk') return undefined;
  // The chunk is the last <chunk>…</chunk> of the request (the system prompt names the tag too).
  const chunk = req.text.slice(req.text.lastIndexOf('<chunk>') + '<chunk>'.length, req.text.lastIndexOf('</chunk>'));
  if (/FAIL_ALL/.test(chunk) || (/FAIL_FIRST/.test(chunk) && req.provider === 'anthropic')) return { kind: 'error', status: 500, message: 'model double: this chunk fails here' };
  const sentences = chunk.split(/(?<=[.!?])\s+/).filter(Boolean);
  return { kind: 'json', value: { summary: (sentences[0] ?? chunk).slice(0, 1000), points: sentences.slice(1, 4).map((s) => s.slice(0, 280)) } };
};

/** Every responder the demo and tests use, tried in turn. */
export const governorResponder: Responder = (req) => triageResponder(req) ?? complaintResponder(req) ?? analystResponder(req) ?? supportAgentResponder(req) ?? chunkResponder(req);
