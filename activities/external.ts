/**
 * Effects outside Governor's database: an HTTP API, an SMTP server, anything reached over the network.
 *
 * A tool whose effect is a row in our own store gets exactly-once for free (`executeOnce`): the effect and its
 * evidence record commit in one transaction. An external effect cannot join that transaction, and a transaction must
 * never be held open across a network call (it would pin a connection and hold locks for as long as the far side
 * cares to take). So `executeExternal` splits the step in three:
 *
 *   1. look the idempotency key up in the evidence log; a record under it means the step is done (or failed for
 *      good): return that record, deduplicated, and do not call downstream;
 *   2. call downstream OUTSIDE any transaction, handing it the key (`effect(idempotencyKey)`), from which the call
 *      derives what the far side deduplicates on: an `Idempotency-Key` header (`idempotencyHeaders`), an SMTP
 *      `Message-ID` (`messageIdFor`), a payment provider's request id;
 *   3. append the outcome as an evidence record under the key (hash chain, append-only, one record per key).
 *
 * A worker can die between 2 and 3: the effect happened and nothing says so. The next attempt finds no record and
 * calls downstream AGAIN, with the SAME key. Exactly-once therefore rests on the downstream system honouring the
 * key: an HTTP API that answers a repeated `Idempotency-Key` with the first response, a mail store that keeps one
 * message per `Message-ID`. Our side guarantees at-least-once delivery of the call, one stable key for every attempt,
 * and at most one evidence record per key; the far side turns that into one effect. This is the only honest
 * exactly-once there is for a system we do not own: no protocol can make "did the far side act before we died?"
 * answerable without asking the far side, and the key is how we ask. A downstream that ignores the key gives
 * at-least-once, and no amount of local bookkeeping changes that.
 *
 * Failures: when `effect` throws, nothing is recorded and the error is rethrown, so the caller (Temporal's retry
 * policy, the outbox relay's backoff) tries again with the same key; a transient failure must not occupy the key,
 * because the key holds one record and a later success needs it. Only an error the caller declares permanent
 * (`isPermanent`) is recorded, as `failed`; after that the key is closed and later calls return that record.
 */
import type { ToolExecution } from '../contracts/evidence.js';
import { appendExternalSuccess, checkLeases, recordedExecution, recordOutcome, type EffectResult, type ToolCall } from './evidence.js';
import { sha256, type Store } from './store.js';

export interface ExternalOptions {
  /** When the step started (default: now); the record's `startedAt`. */
  readonly startedAt?: Date;
  /**
   * True for an error no retry with the same key can fix (an SMTP 5xx rejection, an HTTP 4xx other than 409/429):
   * it is recorded as `failed` and closes the key. Default: nothing is permanent, every error is left to a retry.
   */
  readonly isPermanent?: (err: unknown) => boolean;
}

/**
 * Runs an effect on an external system at most once per idempotency key on our side, and records it. Returns the
 * record under the key: a new `success`, the earlier record (`evidence.deduplicated`, the effect not called), or a
 * `failed` record for a permanent error; check `evidence.status`. Throws the effect's own error, with nothing
 * recorded, for everything else. See the module comment for what "exactly once" needs from the downstream system.
 *
 * Fences: the call's lease tokens are checked before the downstream call, not when the outcome is recorded; once
 * the effect has happened, refusing its record would only hide it.
 *
 * Concurrency: two callers with the same key at the same moment may both reach downstream (neither holds a lock
 * across the call); both send the same key, the far side dedupes, and only one evidence record is written (the other
 * caller gets it back, deduplicated). Callers that poll for work (the outbox relay) claim it first to make that rare.
 */
export async function executeExternal(
  store: Store,
  call: ToolCall,
  effect: (idempotencyKey: string) => Promise<EffectResult>,
  options: ExternalOptions = {},
): Promise<ToolExecution> {
  const startedAt = options.startedAt ?? new Date();
  const recorded = await recordedExecution(store, call);
  if (recorded) return recorded;
  await checkLeases(store, call.leases ?? {});
  let done: EffectResult;
  try {
    done = await effect(call.idempotencyKey);
  } catch (err) {
    if (options.isPermanent?.(err)) return recordOutcome(store, call, 'failed', describeError(err));
    throw err;
  }
  return appendExternalSuccess(store, call, done, startedAt);
}

/** A one-line description of an error, for evidence `detail` and logs. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const response = (err as { response?: unknown }).response;
    return [typeof code === 'string' ? code : null, err.message, typeof response === 'string' && !err.message.includes(response) ? response : null]
      .filter(Boolean)
      .join(': ')
      .slice(0, 500);
  }
  return String(err).slice(0, 500);
}

const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

/**
 * A stable RFC 5322 Message-ID for an idempotency key: `<first 32 hex digits of sha256(key)@domain>`. Every attempt
 * to send the message carries the same id, so a mail store that keeps one message per Message-ID (as real ones do:
 * IMAP servers, Gmail, archiving) holds one copy however often the relay retried. The key is hashed, not embedded:
 * it can contain characters a msg-id cannot, and workflow ids are nobody else's business.
 */
export function messageIdFor(idempotencyKey: string, domain = 'governor.local'): string {
  if (!DOT_ATOM.test(domain)) throw new Error(`messageIdFor: ${JSON.stringify(domain)} is not a valid Message-ID domain (RFC 5322 dot-atom)`);
  return `<${sha256(idempotencyKey).slice(0, 32)}@${domain}>`;
}

/** True for a syntactically valid RFC 5322 msg-id in its dot-atom form: `<left@right>`. */
export function isMessageId(value: string): boolean {
  const m = /^<([^<>@\s]+)@([^<>@\s]+)>$/.exec(value);
  return m !== null && DOT_ATOM.test(m[1]!) && DOT_ATOM.test(m[2]!);
}

/** The header name of the IETF `Idempotency-Key` draft (draft-ietf-httpapi-idempotency-key-header), as used by Stripe and others. */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

/**
 * The bare token for an idempotency key: the sha256 of the key in hex (64 characters, `[0-9a-f]`). Stable, fixed
 * length (APIs cap theirs, Stripe at 255), safe in any header, and it does not leak workflow ids downstream. For APIs
 * that take the key unquoted (Stripe) or in a body field.
 */
export function idempotencyToken(idempotencyKey: string): string {
  return sha256(idempotencyKey);
}

/**
 * The `Idempotency-Key` header for a key, as the IETF draft defines it: a structured-field string (RFC 8941), i.e.
 * the token in double quotes. Spread it into a request's headers: `fetch(url, { headers: { ...idempotencyHeaders(key) } })`.
 */
export function idempotencyHeaders(idempotencyKey: string): { [IDEMPOTENCY_KEY_HEADER]: string } {
  return { [IDEMPOTENCY_KEY_HEADER]: `"${idempotencyToken(idempotencyKey)}"` };
}
