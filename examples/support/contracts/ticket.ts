import { z } from 'zod';
import { id, parseContract, type TriggerParseResult } from 'governor';

export { id };

/**
 * Trigger contract `support_ticket.created`, schema version 1.
 *
 * The payload is an API contract: objects are strict, so a producer that adds a field without the contract knowing
 * gets an error that names the field instead of a run that silently ignores it.
 */
export const SUPPORT_TICKET_CREATED = 'support_ticket.created';
export const TRIGGER_SCHEMA_VERSION = 1;

export const MAX_TICKET_BODY_CHARS = 20_000;

export const Ticket = z.strictObject({
  id: id('tkt'),
  subject: z.string().trim().min(1, 'must not be empty').max(300, 'must be at most 300 characters'),
  body: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(MAX_TICKET_BODY_CHARS, `must be at most ${MAX_TICKET_BODY_CHARS} characters`),
  channel: z.enum(['email', 'chat', 'web', 'phone', 'api']),
  language: z.string().regex(/^[a-z]{2}(-[A-Z]{2})?$/, 'must be a language tag such as en or en-GB'),
});

export const Customer = z.strictObject({
  id: id('cus'),
  plan: z.enum(['free', 'starter', 'pro', 'enterprise']),
  arr: z.number().nonnegative('must be zero or more').finite(),
  region: z.string().min(2).max(16),
});

export const SupportTicketCreated = z.strictObject({
  event: z.literal(SUPPORT_TICKET_CREATED),
  schema_version: z.literal(TRIGGER_SCHEMA_VERSION).default(TRIGGER_SCHEMA_VERSION),
  event_id: id('evt'),
  created_at: z.iso.datetime({ offset: true, message: 'must be an ISO-8601 timestamp' }),
  ticket: Ticket,
  customer: Customer,
});

export type Ticket = z.infer<typeof Ticket>;
export type Customer = z.infer<typeof Customer>;
export type SupportTicketCreated = z.infer<typeof SupportTicketCreated>;

/** Validates a `support_ticket.created` trigger; see `parseContract`. */
export function parseTriggerEvent(input: unknown): TriggerParseResult<SupportTicketCreated> {
  return parseContract(SupportTicketCreated, SUPPORT_TICKET_CREATED, input);
}
