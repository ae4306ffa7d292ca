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

/** Every responder the demo and tests use, tried in turn. */
export const governorResponder: Responder = (req) => triageResponder(req) ?? complaintResponder(req) ?? analystResponder(req);
