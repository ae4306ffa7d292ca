/**
 * The outbox relay against a real SMTP server (the `smtp-server` package on loopback) through nodemailer, and
 * `executeExternal`, the pattern it is built on. The server's mailbox keeps one message per Message-ID, as real mail
 * stores do, and counts every DATA it accepted (raw deliveries), so a test can tell "sent twice on the wire" from
 * "two messages in the mailbox".
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ApplicationFailure } from '@temporalio/common';
import { evidenceForWorkflow, executeOnce, verifyEvidence, type ToolCall } from '../activities/evidence.js';
import { executeExternal, idempotencyHeaders, idempotencyToken, isMessageId, messageIdFor } from '../activities/external.js';
import { createOutboxRelay, deliveryKeyFor, ensureRelaySchema, RELAY_ACTOR, type OutboxRelay } from '../activities/outbox-relay.js';
import { openStore, type Store } from '../activities/store.js';
import { SUPPORT_SCHEMA } from '../examples/support/schema.js';
import { startPostgres } from './helpers/postgres.js';
import { startSmtpServer, type SmtpServer } from 'governor/testing';

const FIXTURE = fileURLToPath(new URL('./fixtures/outbox-relay-process.ts', import.meta.url));
const FROM = 'governor@governor.local';
const TEAM = 'support-escalations@governor.internal';

/** A loopback port nothing listens on (taken from the OS, then released). */
async function unusedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const smtpOptions = (port: number) => ({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, connectionTimeout: 3000, greetingTimeout: 3000, socketTimeout: 5000 });

/**
 * Writes an escalation email into the outbox the way the `send_escalation_email` tool does: the row inside
 * `executeOnce`, so the row and the tool call's evidence record commit together (the record is the authority the
 * relay delivers on). Returns the row's idempotency key.
 */
async function escalate(store: Store, workflowId: string, stepId = 'escalate_complaint#1'): Promise<string> {
  const idempotencyKey = `${workflowId}/${stepId}`;
  const args = { complaintId: 'cmp_311', ticketId: 'tkt_9041', customerId: 'cus_1', to: TEAM, severity: 'high', summary: `Charged twice (${workflowId})` };
  const call: ToolCall = {
    tool: 'send_escalation_email',
    action: 'escalate_complaint',
    actor: 'agent:complaint-triager',
    workflowId,
    runId: 'run_1',
    stepId,
    idempotencyKey,
    args,
    resources: ['ticket:tkt_9041'],
    permission: { outcome: 'granted', policyVersion: 'p1', rule: 'scope:email:internal', approver: null },
  };
  await executeOnce(store, call, async (tx) => {
    const messageId = `msg_${randomBytes(8).toString('hex')}`;
    await tx.query(
      `insert into outbox (message_id, idempotency_key, kind, customer_id, recipient, subject, body) values ($1, $2, 'escalation', $3, $4, $5, $6)`,
      [messageId, idempotencyKey, args.customerId, args.to, `[${args.severity}] complaint ${args.complaintId} on ${args.ticketId}`, args.summary],
    );
    return { receiptId: messageId, result: { messageId, recipient: args.to } };
  });
  return idempotencyKey;
}

async function deliveryRow(store: Store, outboxKey: string) {
  const rows = await store.db.query<{ status: string; attempts: number; last_error: string | null; evidence_id: string | null; message_id: string }>(
    `select d.status, d.attempts, d.last_error, d.evidence_id, d.message_id from outbox_deliveries d join outbox o on o.id = d.outbox_id where o.idempotency_key = $1`,
    [outboxKey],
  );
  return rows.rows[0];
}

async function deliveryRecords(store: Store, outboxKey: string) {
  const rows = await store.db.query<{ evidence_id: string; status: string; actor: string; receipt_id: string | null }>(
    'select evidence_id, status, actor, receipt_id from evidence where idempotency_key = $1',
    [deliveryKeyFor(outboxKey)],
  );
  return rows.rows;
}

/** Polls `check` until it holds, for at most `ms`. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The fixture relay in a child process of its own; `exited` settles when it is gone (killed after `ms` at most). */
function relayProcess(env: Record<string, string>, ms = 30_000): { child: ChildProcess; exited: Promise<Exit> } {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<Exit>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, exited };
}

/** The outbox table belongs to the deployment (here the support example's schema), not to Governor's core schema. */
/** One in-memory store for the in-process tests (each uses workflow ids of its own); opening PGlite takes seconds. */
let memory: Store;
before(async () => {
  memory = await openStore({ schemas: [SUPPORT_SCHEMA] });
});
after(async () => {
  await memory?.close();
});

describe('executeExternal: an effect outside the database, recorded under its key', () => {
  let store: Store;
  before(() => {
    store = memory;
  });

  const call = (step: string, args: unknown = { to: 'x' }): ToolCall => ({
    tool: 'http_post',
    action: 'notify',
    actor: 'agent:test',
    workflowId: 'wf_external',
    runId: 'run_1',
    stepId: step,
    idempotencyKey: `wf_external/${step}`,
    args,
    resources: ['api:notify'],
    permission: { outcome: 'granted', policyVersion: 'p1', rule: 'scope:test', approver: null },
  });

  it('calls downstream with the key once, records the outcome, and answers a repeat from the record', async () => {
    const keys: string[] = [];
    const effect = async (key: string) => {
      keys.push(key);
      return { receiptId: `rcpt_${keys.length}`, result: { ok: true, n: keys.length } };
    };
    const first = await executeExternal(store, call('s#1'), effect);
    const second = await executeExternal(store, call('s#1'), effect);
    assert.deepEqual(keys, ['wf_external/s#1'], 'downstream was called once, with the step key');
    assert.equal(first.evidence.status, 'success');
    assert.equal(first.evidence.deduplicated, false);
    assert.equal(second.evidence.deduplicated, true);
    assert.equal(second.evidence.evidenceId, first.evidence.evidenceId);
    assert.deepEqual(second.result, { ok: true, n: 1 });
    await assert.rejects(
      executeExternal(store, call('s#1', { to: 'y' }), effect),
      (err: unknown) => err instanceof ApplicationFailure && err.type === 'IdempotencyConflict',
    );
    assert.equal(keys.length, 1, 'a key reused for other arguments does not reach downstream');
  });

  it('records nothing for a transient failure (the key stays open for the retry); records a permanent one as failed', async () => {
    let calls = 0;
    await assert.rejects(
      executeExternal(store, call('s#2'), async () => {
        calls++;
        throw Object.assign(new Error('503 try later'), { status: 503 });
      }),
      /503/,
    );
    assert.equal((await store.db.query('select 1 from evidence where idempotency_key = $1', ['wf_external/s#2'])).rows.length, 0);
    const retried = await executeExternal(store, call('s#2'), async () => ({ receiptId: 'r', result: { calls: ++calls } }));
    assert.equal(retried.evidence.status, 'success');
    assert.equal(calls, 2);

    const permanent = await executeExternal(
      store,
      call('s#3'),
      async () => {
        throw new Error('422 unprocessable');
      },
      { isPermanent: () => true },
    );
    assert.equal(permanent.evidence.status, 'failed');
    assert.match(permanent.evidence.detail ?? '', /422/);
    let again = 0;
    const closed = await executeExternal(store, call('s#3'), async () => ({ receiptId: null, result: ++again }));
    assert.equal(again, 0, 'a key closed by a permanent failure is not retried downstream');
    assert.equal(closed.evidence.status, 'failed');
    assert.equal(closed.evidence.deduplicated, true);
    assert.deepEqual((await verifyEvidence(store, 'wf_external')).problems, []);
  });

  it('derives a stable RFC 5322 Message-ID and an Idempotency-Key header from a key', () => {
    const id = messageIdFor('complaint/evt_1/escalate_complaint#1');
    assert.equal(id, messageIdFor('complaint/evt_1/escalate_complaint#1'));
    assert.match(id, /^<[0-9a-f]{32}@governor\.local>$/);
    assert.ok(isMessageId(id));
    assert.notEqual(messageIdFor('complaint/evt_2/escalate_complaint#1'), id);
    assert.match(messageIdFor('k', 'mail.example.com'), /@mail\.example\.com>$/);
    assert.throws(() => messageIdFor('k', 'bad domain'), /dot-atom/);
    assert.deepEqual(idempotencyHeaders('k'), { 'Idempotency-Key': `"${idempotencyToken('k')}"` });
    assert.match(idempotencyToken('k'), /^[0-9a-f]{64}$/);
  });
});

describe('outbox relay: escalation emails to a real SMTP server', () => {
  const relays: OutboxRelay[] = [];
  const servers: SmtpServer[] = [];
  const stores: Store[] = [];
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  after(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const relay of relays) await relay.stop();
    for (const server of servers) await server.close();
    for (const store of stores) await store.close().catch(() => undefined);
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('delivers a pending email once, with the derived Message-ID and the key header, and records it in the chain', async () => {
    const smtp = await startSmtpServer();
    servers.push(smtp);
    const store = memory;
    const workflowId = 'complaint/evt_a';
    const key = await escalate(store, workflowId);
    const relay = createOutboxRelay({ store, transport: smtpOptions(smtp.port), from: FROM });
    relays.push(relay);

    const pass = await relay.deliverPending();
    assert.deepEqual(pass, { claimed: 1, delivered: 1, deduplicated: 0, failed: 0, refused: 0 });
    const messageId = messageIdFor(key);
    assert.equal(smtp.mailbox.raw.length, 1);
    const received = smtp.mailbox.byMessageId.get(messageId);
    assert.ok(received, `the mailbox holds ${messageId}`);
    assert.deepEqual(received.to, [TEAM]);
    assert.equal(received.idempotencyKey, idempotencyHeaders(deliveryKeyFor(key))['Idempotency-Key']);
    const outboxId = (await store.db.query<{ message_id: string }>('select message_id from outbox where idempotency_key = $1', [key])).rows[0]!.message_id;
    assert.equal(received.headers.get('x-governor-outbox-id'), outboxId);

    const chain = await evidenceForWorkflow(store, workflowId);
    assert.deepEqual(
      chain.map((r) => [r.tool, r.actor, r.status]),
      [
        ['send_escalation_email', 'agent:complaint-triager', 'success'],
        ['smtp_deliver', RELAY_ACTOR, 'success'],
      ],
    );
    const delivery = chain[1]!;
    assert.equal(delivery.idempotencyKey, `${key}/deliver`);
    assert.equal(delivery.receiptId, messageId);
    assert.equal(delivery.prevHash, chain[0]!.hash, 'the delivery is linked into the run\'s chain');
    assert.equal(delivery.policyRule, 'scope:email:internal', 'on the authority of the tool call that wrote the row');
    assert.equal(received.headers.get('x-governor-evidence'), chain[0]!.evidenceId);
    assert.deepEqual((await verifyEvidence(store, workflowId)).problems, []);
    assert.deepEqual(await deliveryRow(store, key), { status: 'delivered', attempts: 1, last_error: null, evidence_id: delivery.evidenceId, message_id: messageId });

    const second = await relay.deliverPending();
    assert.deepEqual(second, { claimed: 0, delivered: 0, deduplicated: 0, failed: 0, refused: 0 }, 'a second pass finds nothing to do');
    assert.equal(smtp.mailbox.raw.length, 1, 'and sends nothing');
  });

  it('a relay killed between the SMTP delivery and its record: the next one re-sends with the same Message-ID, the mailbox holds one message, evidence one record', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'governor-relay-'));
    dirs.push(dataDir);
    const workflowId = 'complaint/evt_b';
    {
      const store = await openStore({ dataDir, schemas: [SUPPORT_SCHEMA] });
      await ensureRelaySchema(store.db);
      await escalate(store, workflowId);
      await store.close();
    }
    const key = `${workflowId}/escalate_complaint#1`;
    const messageId = messageIdFor(key);

    const target: { victim?: ChildProcess } = {};
    let killedAfter: number | undefined;
    const smtp = await startSmtpServer({
      // The server has stored the message and answered 250: the relay's send succeeded. Kill it before it can record.
      onAccepted: () => {
        const victim = target.victim;
        if (victim && victim.exitCode === null && victim.signalCode === null) {
          killedAfter = smtp.mailbox.raw.length;
          victim.kill('SIGKILL');
        }
      },
    });
    servers.push(smtp);
    const env = { RELAY_DATA_DIR: dataDir, RELAY_SMTP_PORT: String(smtp.port), RELAY_CLAIM_TTL_MS: '500' };

    const first = relayProcess(env);
    children.push(first.child);
    target.victim = first.child;
    const firstExit = await first.exited;
    assert.equal(firstExit.signal, 'SIGKILL', `the first relay was killed, not ${JSON.stringify(firstExit)}`);
    assert.equal(killedAfter, 1, 'it was killed right after the server accepted its message');

    {
      // Between the two processes (PGlite allows one at a time): delivered on the wire, nothing recorded.
      const store = await openStore({ dataDir, schemas: [SUPPORT_SCHEMA] });
      assert.equal((await deliveryRecords(store, key)).length, 0, 'the killed relay recorded nothing (the crash window was hit)');
      assert.deepEqual(
        { ...(await deliveryRow(store, key)), last_error: undefined },
        { status: 'pending', attempts: 1, last_error: undefined, evidence_id: null, message_id: messageId },
      );
      await store.close();
    }

    const second = relayProcess(env);
    children.push(second.child);
    const secondExit = await second.exited;
    assert.equal(secondExit.code, 0, `the second relay finished: ${secondExit.stderr}`);
    assert.deepEqual(JSON.parse(secondExit.stdout), { claimed: 1, delivered: 1, deduplicated: 0, failed: 0, refused: 0 });

    // Two deliveries on the wire (the second relay could not know the first had succeeded: nothing recorded it),
    // both with the same Message-ID, so the mailbox, which keeps one message per Message-ID, holds one.
    assert.equal(smtp.mailbox.raw.length, 2, 'the message went over the wire twice');
    assert.deepEqual(
      smtp.mailbox.raw.map((m) => m.messageId),
      [messageId, messageId],
    );
    assert.equal(smtp.mailbox.raw[0]!.idempotencyKey, smtp.mailbox.raw[1]!.idempotencyKey, 'with the same Idempotency-Key');
    assert.equal(smtp.mailbox.byMessageId.size, 1, 'the mailbox holds exactly one message');

    const store = await openStore({ dataDir, schemas: [SUPPORT_SCHEMA] });
    stores.push(store);
    const records = await deliveryRecords(store, key);
    assert.equal(records.length, 1, 'exactly one delivery evidence record');
    assert.equal(records[0]!.status, 'success');
    assert.equal(records[0]!.receipt_id, messageId);
    assert.deepEqual((await verifyEvidence(store, workflowId)).problems, []);
    assert.equal((await deliveryRow(store, key))!.status, 'delivered');
    assert.equal((await deliveryRow(store, key))!.attempts, 2);
  });

  it('SMTP server down: the row stays pending, the failure is counted and nothing is recorded; server back: delivered', async (t) => {
    const port = await unusedPort();
    const store = memory;
    const workflowId = 'complaint/evt_c';
    const key = await escalate(store, workflowId);
    const errors: unknown[] = [];
    const relay = createOutboxRelay({
      store,
      transport: smtpOptions(port),
      from: FROM,
      pollMs: 50,
      retryBaseMs: 50,
      maxBackoffMs: 400,
      onError: (err) => errors.push(err),
    });
    relays.push(relay);

    const down = await relay.deliverPending();
    assert.deepEqual(down, { claimed: 1, delivered: 0, deduplicated: 0, failed: 1, refused: 0 });
    assert.equal(errors.length, 1);
    const row = await deliveryRow(store, key);
    assert.equal(row?.status, 'pending');
    assert.equal(row?.attempts, 1);
    assert.match(row?.last_error ?? '', /ECONNREFUSED|ECONNECTION|connect/i);
    assert.equal((await deliveryRecords(store, key)).length, 0, 'nothing recorded as delivered');
    assert.equal((await evidenceForWorkflow(store, workflowId)).length, 1, 'only the tool call itself');

    // The loop while the server is still down: it backs off (the wait doubles, 50 ms up to 400 ms, and the row's own
    // retry delay doubles too), so in 800 ms it tries a handful of times, not the 16 a fixed 50 ms poll would.
    relay.start();
    await new Promise((resolve) => setTimeout(resolve, 800));
    const whileDown = errors.length - 1;
    t.diagnostic(`${whileDown} attempts by the loop in 800 ms while the server was down`);
    assert.ok(whileDown >= 1 && whileDown <= 6, `${whileDown} attempts in 800 ms while the server was down`);
    assert.equal((await deliveryRecords(store, key)).length, 0);

    const smtp = await startSmtpServer({ port });
    servers.push(smtp);
    await until('the relay loop to deliver', () => smtp.mailbox.byMessageId.has(messageIdFor(key)));
    await relay.stop();
    assert.equal(relay.running, false);
    assert.equal(smtp.mailbox.raw.length, 1);
    const delivered = await deliveryRow(store, key);
    assert.equal(delivered?.status, 'delivered');
    assert.equal(delivered?.attempts, errors.length + 1, 'every attempt counted on the row: the failed ones and the one that delivered');
    const records = await deliveryRecords(store, key);
    assert.deepEqual(records.map((r) => r.status), ['success']);
    assert.deepEqual((await verifyEvidence(store, workflowId)).problems, []);
  });

  it('several relays at once on one PostgreSQL store: every message sent once, recorded once', async (t) => {
    const pg = await startPostgres();
    try {
      const smtp = await startSmtpServer();
      servers.push(smtp);
      const setup = await openStore({ databaseUrl: pg.url, schemas: [SUPPORT_SCHEMA] });
      const keys: string[] = [];
      for (let i = 0; i < 12; i++) keys.push(await escalate(setup, `complaint/evt_d${i}`));
      // Three workers, each with its own connection pool and relay, racing for the same rows.
      const workers = await Promise.all([0, 1, 2].map(() => openStore({ databaseUrl: pg.url, schemas: [SUPPORT_SCHEMA] })));
      const racing = workers.map((store) => createOutboxRelay({ store, transport: smtpOptions(smtp.port), from: FROM, batchSize: 12 }));
      const passes = await Promise.all(racing.map((r) => r.deliverPending()));
      for (const r of racing) await r.stop();
      const total = passes.reduce((n, p) => n + p.delivered, 0);
      t.diagnostic(`claims won per relay: ${passes.map((p) => p.delivered).join(', ')}`);
      assert.equal(total, 12, `delivered ${JSON.stringify(passes)}`);
      assert.equal(smtp.mailbox.raw.length, 12, 'no message was sent twice: each row was claimed by one relay');
      assert.deepEqual([...smtp.mailbox.byMessageId.keys()].sort(), keys.map((k) => messageIdFor(k)).sort());
      const records = await setup.db.query<{ n: string }>(`select count(*) as n from evidence where tool = 'smtp_deliver' and status = 'success'`);
      assert.equal(Number(records.rows[0]!.n), 12);
      assert.deepEqual((await verifyEvidence(setup)).problems, []);
      for (const s of [setup, ...workers]) await s.close();
    } finally {
      await pg.stop();
    }
  });
});
