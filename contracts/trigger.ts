import { z } from 'zod';
import { issuesFrom, type ValidationIssue } from './issues';

/**
 * Trigger contract `support_ticket.created`, schema version 1.
 *
 * The payload is an API contract: objects are strict, so a producer that adds a field without the contract knowing
 * gets an error that names the field instead of a run that silently ignores it.
 */
export const SUPPORT_TICKET_CREATED = 'support_ticket.created';
export const TRIGGER_SCHEMA_VERSION = 1;

/** A serialized trigger larger than this is refused before parsing: tickets are text, not attachments. */
export const MAX_TRIGGER_BYTES = 64 * 1024;
export const MAX_TICKET_BODY_CHARS = 20_000;

/** An id field `<prefix>_<letters, digits, _ or ->`, with a message that says so. */
export const id = (prefix: string) =>
  z
    .string()
    .regex(new RegExp(`^${prefix}_[A-Za-z0-9_-]{1,64}$`), `must look like ${prefix}_<letters, digits, _ or ->`);

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

export type TriggerParseResult =
  | { readonly ok: true; readonly event: SupportTicketCreated }
  | { readonly ok: false; readonly issues: ValidationIssue[] };

/** Size cap and JSON parsing shared by every trigger contract: the parsed value, or the issue that stops it. */
export function preparePayload(input: unknown): { ok: true; value: unknown } | { ok: false; issues: ValidationIssue[] } {
  // A UTF-8 byte-order mark (some editors write one) is not part of the JSON: drop it rather than refuse the file.
  if (typeof input === 'string' && input.charCodeAt(0) === 0xfeff) input = input.slice(1);
  const text = typeof input === 'string' ? input : (JSON.stringify(input) ?? '');
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > MAX_TRIGGER_BYTES) return { ok: false, issues: [{ field: '(root)', rule: `payload is ${bytes} bytes; the limit is ${MAX_TRIGGER_BYTES}` }] };
  if (typeof input !== 'string') return { ok: true, value: input };
  try {
    return { ok: true, value: JSON.parse(input) };
  } catch (err) {
    return { ok: false, issues: [{ field: '(root)', rule: `not valid JSON: ${(err as Error).message}` }] };
  }
}

/**
 * Validates an event of one contract from raw JSON text or an already-parsed value. Never throws: the caller gets
 * every issue, each naming the field and the rule, and starts nothing unless `ok`.
 */
export function parseContract<T>(
  schema: z.ZodType<T>,
  eventType: string,
  input: unknown,
): { readonly ok: true; readonly event: T } | { readonly ok: false; readonly issues: ValidationIssue[] } {
  const prepared = preparePayload(input);
  if (!prepared.ok) return prepared;
  const value = prepared.value;
  if (typeof value === 'object' && value !== null && 'event' in value && value.event !== eventType) {
    // Say "unknown event type" rather than zod's literal mismatch: that is what the producer needs to hear.
    return { ok: false, issues: [{ field: 'event', rule: `unknown event type ${JSON.stringify(value.event)}; expected "${eventType}"` }] };
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? { ok: true, event: parsed.data } : { ok: false, issues: issuesFrom(parsed.error) };
}

/** Validates a `support_ticket.created` trigger; see `parseContract`. */
export function parseTriggerEvent(input: unknown): TriggerParseResult {
  return parseContract(SupportTicketCreated, SUPPORT_TICKET_CREATED, input);
}
