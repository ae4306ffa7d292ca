import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from 'governor';
import { canonicalJson, implementTool, messageIdFor, sha256 } from 'governor/worker';
import {
  addTicketNote,
  applyTriageDecision,
  collectDataset,
  createEscalation,
  remindReviewers,
  REVIEW_TEAM,
  getCustomer,
  getRecentComplaints,
  getTicket,
  issueRefund,
  readArtifact,
  sendCustomerEmail,
  sendEscalationEmail,
} from './tools.js';

function notFound(what: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.ToolFailed, nonRetryable: true, message: `${what} not found` });
}

/**
 * The tools' implementations against the store, one per registry entry. Each runs inside the transaction that also
 * appends its evidence, so an effect without a record (or a record without its effect) cannot exist.
 */
export const SUPPORT_TOOL_IMPLEMENTATIONS = [
  implementTool(getTicket, async ({ ticketId }, { tx }) => {
    const triage = await tx.query<{ category: string; urgency: string }>(
      'select category, urgency from decisions where ticket_id = $1 order by decided_at desc limit 1',
      [ticketId],
    );
    const notes = await tx.query<{ author: string; note: string; created_at: Date }>(
      'select author, note, created_at from ticket_notes where ticket_id = $1 order by id',
      [ticketId],
    );
    return {
      receiptId: null,
      result: {
        ticketId,
        triage: triage.rows[0] ?? null,
        notes: notes.rows.map((n) => ({ author: n.author, note: n.note, at: new Date(n.created_at).toISOString() })),
      },
    };
  }),

  implementTool(getCustomer, async ({ customerId }, { tx }) => {
    const row = await tx.query<{ triaged: number | string; escalations: number | string; refunded: number | string }>(
      `select (select count(*) from decisions where customer_id = $1) as triaged,
              (select count(*) from escalations where customer_id = $1) as escalations,
              (select coalesce(sum(amount_cents), 0) from refunds where customer_id = $1) as refunded`,
      [customerId],
    );
    const r = row.rows[0]!;
    return { receiptId: null, result: { customerId, ticketsTriaged: Number(r.triaged), escalations: Number(r.escalations), refundedCents: Number(r.refunded) } };
  }),

  implementTool(getRecentComplaints, async ({ customerId }, { tx }) => {
    const rows = await tx.query<{ subject: string }>(
      `select subject from outbox where customer_id = $1 and kind = 'escalation' order by id desc limit 10`,
      [customerId],
    );
    return { receiptId: null, result: { count: rows.rows.length, subjects: rows.rows.map((r) => r.subject) } };
  }),

  implementTool(addTicketNote, async ({ ticketId, note }, { tx, ...ctx }) => {
    const row = await tx.query<{ id: number | string }>(
      'insert into ticket_notes (idempotency_key, ticket_id, author, note) values ($1, $2, $3, $4) returning id',
      [ctx.idempotencyKey, ticketId, ctx.actor, note],
    );
    const noteId = `note_${row.rows[0]!.id}`;
    return { receiptId: noteId, result: { noteId } };
  }),

  implementTool(sendEscalationEmail, async (args, { tx, ...ctx }) => {
    // The outbox is the sink: a relay delivers from it with the message id as the SMTP Message-ID, so a receiver
    // can drop a duplicate delivery too. Counting its rows counts what was sent.
    const messageId = messageIdFor(ctx.idempotencyKey);
    await tx.query(
      `insert into outbox (message_id, idempotency_key, kind, customer_id, recipient, subject, body) values ($1, $2, 'escalation', $3, $4, $5, $6)`,
      [messageId, ctx.idempotencyKey, args.customerId, args.to, `[${args.severity}] complaint ${args.complaintId} on ${args.ticketId}`, args.summary],
    );
    return { receiptId: messageId, result: { messageId, recipient: args.to } };
  }),

  implementTool(sendCustomerEmail, async (args, { tx, ...ctx }) => {
    const messageId = messageIdFor(ctx.idempotencyKey);
    await tx.query(
      `insert into outbox (message_id, idempotency_key, kind, customer_id, recipient, subject, body) values ($1, $2, 'customer', $3, $4, $5, $6)`,
      [messageId, ctx.idempotencyKey, args.customerId, `customer:${args.customerId}`, args.subject, args.body],
    );
    return { receiptId: messageId, result: { messageId, recipient: `customer:${args.customerId}` } };
  }),

  implementTool(issueRefund, async (args, { tx, ...ctx }) => {
    const row = await tx.query<{ id: number | string }>(
      'insert into refunds (idempotency_key, customer_id, amount_cents) values ($1, $2, $3) returning id',
      [ctx.idempotencyKey, args.customerId, args.amountCents],
    );
    const refundId = `rf_${row.rows[0]!.id}`;
    return { receiptId: refundId, result: { refundId } };
  }),

  implementTool(collectDataset, async ({ category, limit }, { tx }) => {
    const rows = await tx.query<{ ticket_id: string; urgency: string; outcome: string }>(
      'select ticket_id, urgency, outcome from decisions where category = $1 order by decided_at desc limit $2',
      [category, limit],
    );
    const content = { category, tickets: rows.rows };
    const contentHash = sha256(canonicalJson(content));
    const artifactId = `art_${contentHash.slice(0, 16)}`;
    const scope = `category:${category}`;
    await tx.query(
      `insert into artifacts (artifact_id, kind, scope, content, content_hash) values ($1, 'dataset', $2, $3, $4)
       on conflict (artifact_id) do nothing`,
      [artifactId, scope, JSON.stringify(content), contentHash],
    );
    return { receiptId: artifactId, result: { artifactId, rows: rows.rows.length, contentHash, scope } };
  }),

  implementTool(readArtifact, async ({ artifactId }, { tx }) => {
    const row = await tx.query<{ scope: string; content: unknown; content_hash: string }>(
      'select scope, content, content_hash from artifacts where artifact_id = $1',
      [artifactId],
    );
    const a = row.rows[0];
    if (!a) throw notFound(`artifact ${artifactId}`);
    // The hash of what is read now, not the one stored beside it: an edited artifact shows up as a different hash.
    return { receiptId: null, result: { artifactId, scope: a.scope, contentHash: sha256(canonicalJson(a.content)), content: a.content } };
  }),

  implementTool(applyTriageDecision, async (args, { tx }) => {
    await tx.query(
      `insert into decisions (workflow_id, event_id, ticket_id, customer_id, category, urgency, outcome, decided_by, prompt_version, model)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       on conflict (workflow_id) do update set category = excluded.category, urgency = excluded.urgency,
         outcome = excluded.outcome, decided_by = excluded.decided_by, decided_at = now()`,
      [args.workflowId, args.eventId, args.ticketId, args.customerId, args.category, args.urgency, args.outcome, args.decidedBy, args.promptVersion, args.model],
    );
    const decision = `decision:${args.workflowId}`;
    return { receiptId: decision, result: { decision } };
  }),

  implementTool(remindReviewers, async (args, { tx, ...ctx }) => {
    // Through the outbox like every email: the relay delivers it, once, with the message id from the key.
    const messageId = messageIdFor(ctx.idempotencyKey);
    await tx.query(
      `insert into outbox (message_id, idempotency_key, kind, customer_id, recipient, subject, body) values ($1, $2, 'reminder', null, $3, $4, $5)`,
      [messageId, ctx.idempotencyKey, REVIEW_TEAM, `[review due ${args.deadline}] ticket ${args.ticketId}`, `Run ${args.workflowId} waits for a review by ${args.reviewers.join(', ')} before ${args.deadline}; after that the ticket is escalated.`],
    );
    return { receiptId: messageId, result: { messageId, recipient: REVIEW_TEAM } };
  }),

  implementTool(createEscalation, async (args, { tx }) => {
    const row = await tx.query<{ id: number | string }>(
      'insert into escalations (idempotency_key, ticket_id, customer_id, reason, priority) values ($1, $2, $3, $4, $5) returning id',
      [args.idempotencyKey, args.ticketId, args.customerId, args.reason, args.priority],
    );
    const escalationId = `esc_${row.rows[0]!.id}`;
    return { receiptId: escalationId, result: { escalationId } };
  }),
];
