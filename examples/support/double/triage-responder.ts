import type { DoubleReply, RecordedRequest, Responder } from 'governor/testing';

/**
 * Deterministic, plausible answers to the `support_ticket_classifier` prompt, for the offline demo and for tests
 * that need a well-behaved model. It reads the ticket the prompt embeds between <ticket> tags and classifies it by
 * keywords: the same ticket always gets the same answer, and an ambiguous one gets a low confidence.
 */
const CATEGORY_RULES: ReadonlyArray<{ category: string; weight: number; pattern: RegExp }> = [
  { category: 'billing', weight: 2, pattern: /\b(charg\w*|refund\w*|invoice\w*|fees?|payments?|paid|billing|billed|overcharg\w*|debit\w*|top[ -]?up\w*|exchange rate)\b/gi },
  { category: 'bug', weight: 2, pattern: /\b(error\w*|crash\w*|bug\w*|broken|fail\w*|not working|doesn'?t work|won'?t (work|load)|declined|stuck)\b/gi },
  { category: 'account', weight: 2, pattern: /\b(password|log ?in|sign ?in|verif\w*|identity|pin|passcode|lost|stolen|account details|address|close my account|locked)\b/gi },
  { category: 'sales', weight: 1, pattern: /\b(upgrad\w*|pricing|price|plans?|discount|quote|purchase|buy|seats?|enterprise)\b/gi },
  { category: 'how_to', weight: 1, pattern: /\b(how (do|can|to)|where (do|can|is)|is there a way|can i)\b/gi },
];

const HIGH_URGENCY = /\b(twice|double|duplicate|fraud\w*|stolen|unauthori[sz]ed|urgent\w*|immediately|asap|locked out|blocked|don'?t recogni[sz]e)\b/i;

export interface TicketLabels {
  readonly category: string;
  readonly urgency: string;
  readonly confidence: number;
  readonly reason: string;
}

export function classifyTicketText(subject: string, body: string): TicketLabels {
  const text = `${subject}\n${body}`;
  const scores = CATEGORY_RULES.map((rule) => ({
    category: rule.category,
    score: (text.match(rule.pattern)?.length ?? 0) * rule.weight,
  })).sort((a, b) => b.score - a.score);
  const [top, second] = scores as [{ category: string; score: number }, { category: string; score: number }];
  if (top.score === 0) {
    return { category: 'other', urgency: 'low', confidence: 0.41, reason: 'No clear topic in the ticket; a person should look.' };
  }
  const margin = top.score - second.score;
  const confidence = margin >= 2 ? 0.93 : margin === 1 ? 0.81 : 0.58;
  const urgent = HIGH_URGENCY.test(text);
  const urgency = urgent ? 'high' : top.category === 'bug' || top.category === 'account' ? 'medium' : 'low';
  const reason =
    margin === 0
      ? `Mentions both ${top.category} and ${second.category} topics equally.`
      : `Mostly about ${top.category.replace('_', ' ')}${urgent ? ', with signs of money lost or access blocked' : ''}.`;
  return { category: top.category, urgency, confidence, reason };
}

/** The first <ticket>{…}</ticket> in the request, as the classifier prompt renders it. */
export function ticketFromRequest(req: RecordedRequest): { subject: string; body: string } | undefined {
  const match = /<ticket>(\{[\s\S]*?\})<\/ticket>/.exec(req.text);
  if (!match?.[1]) return undefined;
  try {
    const ticket = JSON.parse(match[1]) as { subject?: unknown; body?: unknown };
    return { subject: String(ticket.subject ?? ''), body: String(ticket.body ?? '') };
  } catch {
    return undefined;
  }
}

export const triageResponder: Responder = (req): DoubleReply | undefined => {
  if (req.outputName !== 'classify_ticket') return undefined;
  const ticket = ticketFromRequest(req);
  return ticket ? { kind: 'json', value: classifyTicketText(ticket.subject, ticket.body) } : undefined;
};
