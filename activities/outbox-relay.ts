/**
 * The outbox relay: delivers the emails that tools wrote into the `outbox` table to a real SMTP server, exactly once
 * as far as the mail store can tell, with the delivery recorded as evidence. The reference use of `executeExternal`.
 *
 * A tool (`send_escalation_email`) writes its outbox row in the transaction that records its evidence, so "the
 * workflow decided to send this" is exactly-once in our database. The relay turns that into a message on a server:
 *
 *   claim the row  ->  SMTP send, outside any transaction  ->  evidence record under `<outbox key>/deliver`  ->  mark it
 *
 * Every attempt for a row sends the same `Message-ID` (derived from the row's idempotency key, `messageIdFor`) and
 * the same `Idempotency-Key` header (derived from the delivery key). A relay killed after the server accepted the
 * message but before the record committed leaves the row pending; the next relay sends it again, and the mail store,
 * which keeps one message per Message-ID, still holds one. That is the exactly-once on offer for SMTP (see
 * external.ts): two deliveries on the wire, one message in the mailbox, one evidence record.
 *
 * The `outbox` table itself belongs to the deployment whose tools write it (the support example's schema defines
 * it); the relay reads its columns `id, message_id, idempotency_key, kind, recipient, subject, body` and never writes
 * it. The relay keeps its own bookkeeping in `outbox_deliveries` (status, attempts, claim, backoff, evidence id), one row
 * per outbox row, created by `ensureRelaySchema`. Everything is bounded: rows per pass (`batchSize`), attempts per row
 * (`maxAttempts`, then the row fails for good and says so in evidence), time per send (the transport's timeouts),
 * time a claim is held (`claimTtlMs`), and the polling loop's wait (`pollMs`, doubling to `maxBackoffMs` while the
 * server keeps failing).
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import nodemailer, { type SMTPTransportOptions, type SentMessageInfo, type Transporter } from 'nodemailer';
import type { PermissionOutcome, ToolExecution } from '../contracts/evidence.js';
import { recordOutcome, type ToolCall } from './evidence.js';
import { describeError, executeExternal, IDEMPOTENCY_KEY_HEADER, idempotencyHeaders, messageIdFor } from './external.js';
import type { Sql } from './sql.js';
import { sha256, type Store } from './store.js';

/** The actor every delivery record names. */
export const RELAY_ACTOR = 'relay:outbox';
/** The tool and action a delivery record names. */
export const DELIVERY_TOOL = 'smtp_deliver';
export const DELIVERY_ACTION = 'deliver_email';

/** The idempotency key of an outbox row's delivery: the row's own key plus `/deliver`. */
export function deliveryKeyFor(outboxKey: string): string {
  return `${outboxKey}/deliver`;
}

/**
 * The relay's own table. It is not in the store's schema: the relay is an optional part that a deployment may run or
 * not, and it creates what it needs (idempotently, under an advisory lock so that several workers starting at once
 * do not race on `create table`). Statuses: `pending` (waiting or claimed), `delivered` (evidence id set), `failed`
 * (a permanent SMTP rejection, or `maxAttempts` used up; a `failed` evidence record says why), `refused` (no evidence
 * record authorises the row, so the relay will not send it; nothing is recorded because there is no chain to record
 * it in).
 */
const RELAY_SCHEMA = `
create table if not exists outbox_deliveries (
  outbox_id       bigint primary key references outbox (id),
  -- Derived from the outbox row's unique key, so unique with outbox_id; not a second unique index, which
  -- \`on conflict (outbox_id)\` would not arbitrate (two first claims racing would trip it instead of losing).
  delivery_key    text not null,
  message_id      text not null,
  status          text not null default 'pending' check (status in ('pending', 'delivered', 'failed', 'refused')),
  attempts        integer not null default 0,
  last_error      text,
  claimed_by      text,
  claimed_until   timestamptz,
  next_attempt_at timestamptz not null default now(),
  evidence_id     text,
  delivered_at    timestamptz,
  updated_at      timestamptz not null default now()
);
alter table outbox_deliveries drop constraint if exists outbox_deliveries_delivery_key_key;
create index if not exists outbox_deliveries_due on outbox_deliveries (status, next_attempt_at);
`;

/** Creates the relay's table if it is missing. Safe to call from every worker at every start. */
export async function ensureRelaySchema(db: Sql): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock(4, 0)'); // namespace 4: the relay's schema
    await tx.exec(RELAY_SCHEMA);
  });
}

export interface OutboxRelayOptions {
  readonly store: Store;
  /**
   * A nodemailer transport (the caller owns it), or SMTP options to make one (the relay owns it and closes it on
   * `stop`). Options get bounded timeouts unless they set their own: 10 s to connect, 10 s for the greeting, 30 s of
   * socket inactivity.
   */
  readonly transport: Transporter<SentMessageInfo> | SMTPTransportOptions;
  /** The From address of every message. */
  readonly from: string;
  /** Domain of the derived Message-IDs (default `governor.local`): `<hash@domain>`. */
  readonly messageIdDomain?: string;
  /** Outbox kinds this relay delivers (default `['escalation']`: internal team addresses). */
  readonly kinds?: readonly string[];
  /** Rows claimed per pass, at most (default 10). */
  readonly batchSize?: number;
  /** The loop's wait between passes when idle (default 1000 ms). */
  readonly pollMs?: number;
  /** Cap of the loop's backoff while the server keeps failing, and of a row's retry delay (default 60 s). */
  readonly maxBackoffMs?: number;
  /** A row's first retry delay after a transient failure; doubles per attempt (default 1000 ms). */
  readonly retryBaseMs?: number;
  /** Attempts per row before it is failed for good (default 8). */
  readonly maxAttempts?: number;
  /**
   * How long a claim keeps other relays off a row (default 120 s). Must exceed one send's worst case (the transport's
   * timeouts): a relay that dies holding a claim delays the row's next attempt by at most this.
   */
  readonly claimTtlMs?: number;
  /** Names this relay in claims (default `relay_<host>_<pid>_<random>`). */
  readonly relayId?: string;
  /** Called for each failed send and for a pass that threw; the relay carries on. */
  readonly onError?: (err: unknown, context: { readonly outboxId?: number }) => void;
}

/** What one pass did. `delivered`: sent and recorded now. `deduplicated`: the record already existed, nothing sent. */
export interface DeliveryPass {
  readonly claimed: number;
  readonly delivered: number;
  readonly deduplicated: number;
  /** Sends that failed this pass (transient, will be retried; or permanent / out of attempts, now `failed`). */
  readonly failed: number;
  /** Rows no evidence record authorises: not sent, marked `refused`. */
  readonly refused: number;
}

export interface OutboxRelay {
  /** One bounded pass: claims up to `batchSize` due rows and tries each once. Stops early on a connection failure. */
  deliverPending(): Promise<DeliveryPass>;
  /** Starts the polling loop (no-op when running). */
  start(): void;
  /** Stops the loop: the send in flight finishes (bounded by the transport's timeouts), nothing new starts. */
  stop(): Promise<void>;
  readonly running: boolean;
  readonly relayId: string;
}

interface OutboxRow {
  id: number | string;
  message_id: string;
  idempotency_key: string;
  kind: string;
  customer_id: string | null;
  recipient: string;
  subject: string;
  body: string;
}

/** The evidence record of the tool call that wrote the row: the authority the delivery acts on. */
interface SourceRecord {
  evidence_id: string;
  workflow_id: string;
  run_id: string;
  step_id: string;
  permission: PermissionOutcome;
  policy_version: string;
  policy_rule: string;
  approver: string | null;
}

/** Errors that say the server (or the way to it) is down, not that this message is wrong: end the pass, back off. */
const CONNECTION_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ETLS', 'ECONNREFUSED', 'ECONNRESET', 'EPROXY']);

function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CONNECTION_CODES.has(code);
}

/** A rejection the server gave for good (5xx other than 503): retrying the same message cannot help. */
function isPermanentSmtpError(err: unknown): boolean {
  const e = err as { permanent?: unknown; responseCode?: unknown } | null;
  if (typeof e?.permanent === 'boolean') return e.permanent;
  return typeof e?.responseCode === 'number' && e.responseCode >= 500 && e.responseCode < 600 && e.responseCode !== 503;
}

function isTransporter(t: OutboxRelayOptions['transport']): t is Transporter<SentMessageInfo> {
  return typeof (t as Transporter<SentMessageInfo>).sendMail === 'function';
}

export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { store, from } = options;
  const domain = options.messageIdDomain ?? 'governor.local';
  const kinds = [...(options.kinds ?? ['escalation'])];
  const batchSize = positive('batchSize', options.batchSize ?? 10);
  const pollMs = positive('pollMs', options.pollMs ?? 1000);
  const maxBackoffMs = positive('maxBackoffMs', options.maxBackoffMs ?? 60_000);
  const retryBaseMs = positive('retryBaseMs', options.retryBaseMs ?? 1000);
  const maxAttempts = positive('maxAttempts', options.maxAttempts ?? 8);
  const claimTtlMs = positive('claimTtlMs', options.claimTtlMs ?? 120_000);
  const relayId = options.relayId ?? `relay_${hostname()}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const ownsTransport = !isTransporter(options.transport);
  const transport: Transporter<SentMessageInfo> = isTransporter(options.transport)
    ? options.transport
    : nodemailer.createTransport({ connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000, ...options.transport });
  const onError = options.onError ?? (() => {});

  let schema: Promise<void> | undefined;
  const ready = () => (schema ??= ensureRelaySchema(store.db).catch((err: unknown) => {
    schema = undefined; // try again next pass
    throw err;
  }));

  let stopping = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  /** Set by a pass that ended on a connection error: the loop backs off. */
  let connectionFailed = false;

  /**
   * Due rows, oldest first. This read only proposes candidates; `claim` decides. Rows claimed by a live relay
   * (claim not expired), waiting out a backoff, or finished are skipped.
   */
  async function candidates(): Promise<OutboxRow[]> {
    const rows = await store.db.query<OutboxRow>(
      `select o.id, o.message_id, o.idempotency_key, o.kind, o.customer_id, o.recipient, o.subject, o.body
         from outbox o left join outbox_deliveries d on d.outbox_id = o.id
        where o.kind = any($1::text[])
          and (d.outbox_id is null
               or (d.status = 'pending' and d.next_attempt_at <= now() and (d.claimed_until is null or d.claimed_until <= now())))
        order by o.id
        limit $2`,
      [kinds, batchSize],
    );
    return rows.rows;
  }

  /**
   * Claims one row for this relay, or returns null when another relay got there first. Several relays (several
   * workers) run at once, so this is the pick's safety, and it is one atomic statement rather than a `select ... for
   * update skip locked` in a claim transaction: the claim has to outlive its transaction (the SMTP call must not run
   * inside one), so a row lock, which ends at commit, cannot be what keeps other relays off; the claim columns are.
   * And a `skip locked` pick reads the claim columns from its snapshot, so a relay whose snapshot predates another's
   * committed claim could take the row again. `insert ... on conflict do update ... where` locks the row and
   * evaluates the where clause on its latest committed version, so of two relays racing for a row exactly one gets
   * it; the loser gets no row back (and a racing insert of a new row waits on the unique index, then takes the
   * conflict path and loses the same way). Claims expire (`claimTtlMs`), so a relay that dies holding one delays the
   * row, it does not strand it; times come from the database's clock, the same for every relay.
   *
   * The claim only makes double sends rare; the key makes them harmless. Should two relays send the same row anyway
   * (a claim expired during a send that was merely slow), both send the same Message-ID and Idempotency-Key, and
   * the evidence log takes one record for the delivery key.
   */
  async function claim(row: OutboxRow): Promise<number | null> {
    const claimed = await store.db.query<{ attempts: number }>(
      `insert into outbox_deliveries as d (outbox_id, delivery_key, message_id, attempts, claimed_by, claimed_until)
       values ($1, $2, $3, 1, $4, now() + $5::double precision * interval '1 millisecond')
       on conflict (outbox_id) do update
          set attempts = d.attempts + 1, claimed_by = excluded.claimed_by, claimed_until = excluded.claimed_until, updated_at = now()
        where d.status = 'pending' and d.next_attempt_at <= now() and (d.claimed_until is null or d.claimed_until <= now())
       returning d.attempts`,
      [Number(row.id), deliveryKeyFor(row.idempotency_key), messageIdFor(row.idempotency_key, domain), relayId, claimTtlMs],
    );
    return claimed.rows[0] ? Number(claimed.rows[0].attempts) : null;
  }

  async function source(row: OutboxRow): Promise<SourceRecord | undefined> {
    const found = await store.db.query<SourceRecord>(
      `select evidence_id, workflow_id, run_id, step_id, permission, policy_version, policy_rule, approver
         from evidence where idempotency_key = $1 and status = 'success'`,
      [row.idempotency_key],
    );
    return found.rows[0];
  }

  /**
   * The delivery as a tool call in the chain of the workflow that wrote the row, on the authority that workflow's
   * record carries (its permission, policy version, rule, approver): the relay adds no authority of its own.
   * The arguments are all derived from the row, so every attempt is the same call.
   */
  function deliveryCall(row: OutboxRow, src: SourceRecord): ToolCall {
    return {
      tool: DELIVERY_TOOL,
      action: DELIVERY_ACTION,
      actor: RELAY_ACTOR,
      workflowId: src.workflow_id,
      runId: src.run_id,
      stepId: `${src.step_id}/deliver`,
      idempotencyKey: deliveryKeyFor(row.idempotency_key),
      args: {
        outboxMessageId: row.message_id,
        messageId: messageIdFor(row.idempotency_key, domain),
        recipient: row.recipient,
        subject: row.subject,
        bodySha256: sha256(row.body),
        authorisedBy: src.evidence_id,
      },
      resources: [`outbox:${row.message_id}`],
      permission: { outcome: src.permission, policyVersion: src.policy_version, rule: src.policy_rule, approver: src.approver },
    };
  }

  async function send(row: OutboxRow, src: SourceRecord, deliveryKey: string, attempt: number) {
    const messageId = messageIdFor(row.idempotency_key, domain);
    const info = await transport.sendMail({
      from,
      to: row.recipient,
      subject: row.subject,
      text: row.body,
      messageId,
      headers: {
        // `prepared`: emitted as is. Left to nodemailer, the quoted value comes out as a MIME encoded-word
        // (`=?UTF-8?Q?=22...?=`), which no receiver comparing keys would match; the value is hex in quotes, safe raw.
        [IDEMPOTENCY_KEY_HEADER]: { prepared: true, value: idempotencyHeaders(deliveryKey)[IDEMPOTENCY_KEY_HEADER] },
        'X-Governor-Outbox-Id': row.message_id,
        'X-Governor-Evidence': src.evidence_id,
      },
    });
    return {
      receiptId: messageId,
      result: {
        messageId,
        outboxMessageId: row.message_id,
        recipient: row.recipient,
        accepted: (info.accepted ?? []).map(String),
        rejected: (info.rejected ?? []).map(String),
        response: typeof info.response === 'string' ? info.response : null,
        attempt,
      },
    };
  }

  async function markDone(row: OutboxRow, execution: ToolExecution): Promise<void> {
    const delivered = execution.evidence.status === 'success';
    await store.db.query(
      `update outbox_deliveries
          set status = $2, evidence_id = $3, last_error = $4, claimed_by = null, claimed_until = null,
              delivered_at = case when $2 = 'delivered' then now() else null end, updated_at = now()
        where outbox_id = $1 and status = 'pending'`,
      [Number(row.id), delivered ? 'delivered' : 'failed', execution.evidence.evidenceId, delivered ? null : execution.evidence.detail],
    );
  }

  /** A transient failure: release the claim and wait out a doubling delay before this row is due again. */
  async function retryLater(row: OutboxRow, attempts: number, err: unknown): Promise<void> {
    const delay = Math.min(maxBackoffMs, retryBaseMs * 2 ** (attempts - 1));
    await store.db.query(
      `update outbox_deliveries
          set claimed_by = null, claimed_until = null, last_error = $3, updated_at = now(),
              next_attempt_at = now() + $4::double precision * interval '1 millisecond'
        where outbox_id = $1 and claimed_by = $2 and status = 'pending'`,
      [Number(row.id), relayId, describeError(err), delay],
    );
  }

  async function deliverPending(): Promise<DeliveryPass> {
    await ready();
    const pass = { claimed: 0, delivered: 0, deduplicated: 0, failed: 0, refused: 0 };
    for (const row of await candidates()) {
      if (stopping && loop) break;
      const attempts = await claim(row);
      if (attempts === null) continue; // another relay has it
      pass.claimed++;
      const src = await source(row);
      if (!src) {
        pass.refused++;
        await store.db.query(
          `update outbox_deliveries set status = 'refused', last_error = $2, claimed_by = null, claimed_until = null, updated_at = now() where outbox_id = $1`,
          [Number(row.id), `no success evidence record under ${row.idempotency_key} authorises this message`],
        );
        continue;
      }
      const call = deliveryCall(row, src);
      if (attempts > maxAttempts) {
        // Claimed this often without an outcome: the sends failed, or the relays holding it died. Stop, and say so.
        const execution = await recordOutcome(store, call, 'failed', `gave up after ${maxAttempts} attempts; an earlier attempt may have reached the server`);
        await markDone(row, execution); // a success recorded before (by a relay that died before marking) wins
        if (execution.evidence.status === 'success') pass.deduplicated++;
        else pass.failed++;
        continue;
      }
      try {
        const execution = await executeExternal(store, call, (key) => send(row, src, key, attempts), { isPermanent: isPermanentSmtpError });
        await markDone(row, execution);
        if (execution.evidence.status !== 'success') pass.failed++;
        else if (execution.evidence.deduplicated) pass.deduplicated++;
        else pass.delivered++;
      } catch (err) {
        pass.failed++;
        onError(err, { outboxId: Number(row.id) });
        if (err instanceof ApplicationFailure && err.nonRetryable) {
          // Not the server: our side refused (an idempotency conflict under the delivery key). No retry can fix it.
          await store.db.query(
            `update outbox_deliveries set status = 'failed', last_error = $2, claimed_by = null, claimed_until = null, updated_at = now() where outbox_id = $1`,
            [Number(row.id), describeError(err)],
          );
          continue;
        }
        await retryLater(row, attempts, err);
        if (isConnectionError(err)) {
          connectionFailed = true;
          break; // the server is away: the rest of the batch would fail the same way
        }
      }
    }
    return pass;
  }

  /**
   * The polling loop. Idle: a pass every `pollMs` (right away after a full batch). While the server is unreachable
   * (a pass ended on a connection error) the wait doubles up to `maxBackoffMs`, with jitter so that several relays
   * do not come back in step; a pass that reaches the server resets it, an empty pass leaves it as it is. Rows keep
   * their own doubling delay besides (`retryBaseMs`), so a failing row is not retried at every pass either.
   */
  async function run(): Promise<void> {
    let streak = 0;
    while (!stopping) {
      let delay = pollMs;
      try {
        connectionFailed = false;
        const pass = await deliverPending();
        if (connectionFailed) streak++;
        else if (pass.delivered + pass.deduplicated + pass.failed > 0) streak = 0;
        if (streak === 0 && pass.claimed >= batchSize) delay = 0; // a full batch: there may be more
      } catch (err) {
        streak++; // the store itself failed: back off too
        onError(err, {});
      }
      if (streak > 0) delay = Math.min(maxBackoffMs, pollMs * 2 ** streak) * (0.5 + Math.random() / 2);
      if (stopping) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  }

  return {
    deliverPending,
    relayId,
    get running() {
      return loop !== undefined;
    },
    start() {
      if (loop) return;
      stopping = false;
      loop = run();
    },
    async stop() {
      stopping = true;
      wake?.();
      await loop;
      loop = undefined;
      if (ownsTransport) transport.close();
    },
  };
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`createOutboxRelay: ${name} must be a positive number, not ${value}`);
  return value;
}
