import { z } from 'zod';
import { issuesFrom, type ValidationIssue } from './issues.js';

/** A serialized trigger larger than this is refused before parsing: trigger events are text, not attachments. */
export const MAX_TRIGGER_BYTES = 64 * 1024;

/**
 * A decision (a review, an approval, guidance) larger than this as JSON is refused before it is sent: a person's
 * decision is a few fields, and one past the server's payload limit would fail as a transport error, not an answer.
 */
export const MAX_DECISION_BYTES = 64 * 1024;

/** Who decides: the id a reviewer signs a decision with, as the run's reviewer list names them. */
export const ReviewerId = z.string().trim().min(1, 'reviewerId is required').max(200, 'reviewerId is at most 200 characters');

/** An id field `<prefix>_<letters, digits, _ or ->`, with a message that says so. */
export const id = (prefix: string) =>
  z
    .string()
    .regex(new RegExp(`^${prefix}_[A-Za-z0-9_-]{1,64}$`), `must look like ${prefix}_<letters, digits, _ or ->`);

export type TriggerParseResult<T> =
  | { readonly ok: true; readonly event: T }
  | { readonly ok: false; readonly issues: ValidationIssue[] };

/** An object as the JSON it would be sent as, at most `limit` bytes: its text, or the issue that stops it. */
function serialised(input: unknown, limit: number): { ok: true; text: string } | { ok: false; issues: ValidationIssue[] } {
  let text: string;
  try {
    text = typeof input === 'string' ? input : (JSON.stringify(input) ?? '');
  } catch (err) {
    // A caller's object JSON cannot carry (a BigInt, a cycle): nothing could be sent with it, so it is a bad field.
    return { ok: false, issues: [unserialisable(input) ?? { field: '(root)', rule: `cannot be sent as JSON: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` }] };
  }
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > limit) return { ok: false, issues: [{ field: '(root)', rule: `payload is ${bytes} bytes; the limit is ${limit}` }] };
  return { ok: true, text };
}

/** The issues that stop a decision payload before its contract is checked: JSON cannot carry it, or it is too large. */
export function decisionPayloadIssues(payload: unknown): ValidationIssue[] {
  const checked = serialised(payload, MAX_DECISION_BYTES);
  return checked.ok ? [] : checked.issues;
}

/** Size cap and JSON parsing shared by every trigger contract: the parsed value, or the issue that stops it. */
export function preparePayload(input: unknown): { ok: true; value: unknown } | { ok: false; issues: ValidationIssue[] } {
  // A UTF-8 byte-order mark (editors on some systems write one) is not part of the JSON: drop it rather than refuse.
  if (typeof input === 'string' && input.charCodeAt(0) === 0xfeff) input = input.slice(1);
  const checked = serialised(input, MAX_TRIGGER_BYTES);
  if (!checked.ok) return checked;
  if (typeof input !== 'string') return { ok: true, value: input };
  try {
    return { ok: true, value: JSON.parse(input) };
  } catch (err) {
    return { ok: false, issues: [{ field: '(root)', rule: `not valid JSON: ${(err as Error).message}` }] };
  }
}

/** The first value JSON cannot carry, by path: a BigInt, or a reference back to an object that encloses it. */
function unserialisable(value: unknown, path: readonly string[] = [], enclosing = new Set<object>()): ValidationIssue | null {
  const field = path.length > 0 ? path.join('.') : '(root)';
  if (typeof value === 'bigint') return { field, rule: 'is a BigInt, which JSON cannot carry: send a number or a string' };
  if (typeof value !== 'object' || value === null) return null;
  if (enclosing.has(value)) return { field, rule: 'refers back to an object that contains it (a cycle), which JSON cannot carry' };
  enclosing.add(value);
  try {
    for (const [key, child] of Object.entries(value)) {
      const found = unserialisable(child, [...path, key], enclosing);
      if (found) return found;
    }
  } catch {
    // A property that throws when read: the caller gets JSON's own message instead.
    return null;
  } finally {
    enclosing.delete(value);
  }
  return null;
}

/**
 * Validates an event of one contract from raw JSON text or an already-parsed value. Never throws: the caller gets
 * every issue, each naming the field and the rule, and starts nothing unless `ok`.
 */
export function parseContract<T>(schema: z.ZodType<T>, eventType: string | null, input: unknown): TriggerParseResult<T> {
  const prepared = preparePayload(input);
  if (!prepared.ok) return prepared;
  const value = prepared.value;
  // A contract without an `event` field (an input given by name, not by type) has no event type to check.
  if (eventType !== null && typeof value === 'object' && value !== null && 'event' in value && value.event !== eventType) {
    // Say "unknown event type" rather than zod's literal mismatch: that is what the producer needs to hear.
    return { ok: false, issues: [{ field: 'event', rule: `unknown event type ${JSON.stringify(value.event)}; expected "${eventType}"` }] };
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? { ok: true, event: parsed.data } : { ok: false, issues: issuesFrom(parsed.error) };
}

