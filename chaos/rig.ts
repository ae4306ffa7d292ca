/**
 * The chaos rig: a real Temporal dev server on a database file (so it can be restarted on it), a throwaway
 * PostgreSQL store shared by worker processes of the reference deployment, the model double, and a real SMTP server
 * the workers' outbox relay delivers to. Each scenario gets a fresh rig; `close()` stops everything it started.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyEvidence } from 'governor/worker';
import { ModelDouble, startDevServer, startPostgres, startSmtpServer, type DevServer, type PostgresServer } from 'governor/testing';
import { SupportClient } from '../examples/support/client.js';
import type { ComplaintState } from '../examples/support/contracts/complaint.js';
import { supportSearchAttributes } from '../examples/support/definitions.js';
import { governorResponder } from '../examples/support/double/agent-responders.js';
import { openSupportStore } from '../examples/support/setup.js';
import { ensureBuiltWorker, spawnSupportWorker, type WorkerProcess } from '../bench/common.js';

/** One delivery the SMTP server accepted. */
export interface Delivery {
  readonly messageId: string;
  readonly subject: string;
}

export interface Rig {
  server: DevServer;
  readonly pg: PostgresServer;
  readonly double: ModelDouble;
  client: SupportClient;
  readonly store: Awaited<ReturnType<typeof openSupportStore>>;
  readonly deliveries: Delivery[];
  readonly workers: WorkerProcess[];
  /** Starts a worker process on the rig (PostgreSQL store, SMTP relay); `env` adds to its environment. */
  startWorker(env?: Record<string, string>): Promise<WorkerProcess>;
  /** Stops the dev server and starts it again on the same database file and port. */
  restartServer(): Promise<void>;
  close(): Promise<void>;
}

export async function startRig(): Promise<Rig> {
  ensureBuiltWorker((line) => process.stderr.write(`${line}\n`));
  const dir = await mkdtemp(join(tmpdir(), 'governor-chaos-'));
  const dbFile = join(dir, 'temporal.db');
  const searchAttributes = Object.values(supportSearchAttributes);
  let server = await startDevServer({ dbFile, searchAttributes });
  const port = Number(server.address.split(':').pop());
  const pg = await startPostgres();
  const double = await ModelDouble.start({ fallback: governorResponder });
  const store = await openSupportStore({ databaseUrl: pg.url });
  const deliveries: Delivery[] = [];
  const smtp = await startSmtpServer({ onAccepted: (m) => deliveries.push({ messageId: m.messageId, subject: m.headers.get('subject') ?? '' }) });
  const smtpPort = smtp.port;
  let client = await SupportClient.connect({ address: server.address });
  const workers: WorkerProcess[] = [];
  let n = 0;
  const rig: Rig = {
    server,
    pg,
    double,
    client,
    store,
    deliveries,
    workers,
    async startWorker(env = {}) {
      const w = await spawnSupportWorker({
        address: server.address,
        anthropicBaseURL: double.anthropicBaseURL,
        dataDir: join(dir, `worker-${++n}`),
        built: true,
        env: { DATABASE_URL: pg.url, GOVERNOR_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, GOVERNOR_BREAKER_COOLDOWN_MS: '3000', ...env },
      });
      workers.push(w);
      return w;
    },
    async restartServer() {
      await client.close();
      await server.stop();
      server = await startDevServer({ dbFile, searchAttributes, port });
      rig.server = server;
      client = await SupportClient.connect({ address: server.address });
      rig.client = client;
    },
    async close() {
      for (const w of workers) await w.stop().catch(() => undefined);
      await client.close().catch(() => undefined);
      await smtp.close();
      await store.close();
      await double.close();
      await server.stop();
      await pg.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return rig;
}

/** One invariant's verdict for a scenario. */
export interface Check {
  readonly ok: boolean;
  readonly detail: string;
}

export const INVARIANTS = ['no run lost', 'no duplicate effect', 'verify clean', 'attempts bounded', 'spend bounded'] as const;
export type Invariant = (typeof INVARIANTS)[number] | 'recovers' | 'no unauthorised tool' | 'refusals name the field';

/**
 * The invariants over complaint runs: each run closed completed (or waits for a person with the reason on record,
 * when `parkedIsFine`); one escalation email per run in the outbox, at the SMTP server (by Message-ID, redeliveries
 * counted) and one note per ticket; the evidence chains verify; model calls and spend within each run's budgets.
 */
export async function complaintInvariants(rig: Rig, ids: readonly string[], options: { parkedIsFine?: boolean; timeoutMs?: number } = {}): Promise<Partial<Record<Invariant, Check>>> {
  const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
  const states = new Map<string, ComplaintState>();
  const open: string[] = [];
  for (const id of ids) {
    const handle = rig.client.client.workflow.getHandle(id);
    for (;;) {
      const { status } = await handle.describe();
      const state = await rig.client.complaintState(id).catch(() => undefined);
      if (status.name === 'COMPLETED' || (options.parkedIsFine && state?.phase === 'awaiting_human' && state.humanTasks.length > 0)) {
        if (state) states.set(id, state);
        break;
      }
      if (status.name !== 'RUNNING' || Date.now() > deadline) {
        open.push(`${id}: ${status.name}${state ? ` (${state.phase})` : ''}`);
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const completed = [...states.values()].filter((s) => s.outcome === 'completed');
  const emails = await rig.store.db.query<{ ticket: string; n: string }>(
    `select substring(subject from 'on (tkt_[^ ]+)') as ticket, count(*)::text as n from outbox where kind = 'escalation' group by 1`,
  );
  const notes = await rig.store.db.query<{ ticket_id: string; n: string }>(`select ticket_id, count(*)::text as n from ticket_notes group by 1`);
  const outboxDup = emails.rows.filter((r) => r.n !== '1');
  const notesDup = notes.rows.filter((r) => r.n !== '1');
  // The relay delivers each outbox row; let it catch up before counting at the SMTP server. A relay killed holding a
  // claim delays that row's next attempt by up to the claim's time to live (120 s): wait a little past it.
  const expectedMail = emails.rows.length;
  const until = Date.now() + 150_000;
  while (new Set(rig.deliveries.map((d) => d.messageId)).size < expectedMail && Date.now() < until) await new Promise((r) => setTimeout(r, 500));
  const byId = new Map<string, number>();
  for (const d of rig.deliveries) byId.set(d.messageId, (byId.get(d.messageId) ?? 0) + 1);
  const redelivered = [...byId.values()].filter((n) => n > 1).length;
  const verified = await verifyEvidence(rig.store);
  const overCalls = [...states.entries()].filter(([, s]) => s.ledger.modelCalls > s.budgets.maxModelCalls);
  const overSpend = [...states.entries()].filter(([, s]) => s.ledger.usd > s.budgets.maxUsd);
  return {
    'no run lost': { ok: open.length === 0, detail: open.length === 0 ? `${ids.length} closed or waiting with a reason (${completed.length} completed)` : `${open.length} not done: ${open.slice(0, 3).join('; ')}` },
    'no duplicate effect': {
      ok: outboxDup.length === 0 && notesDup.length === 0 && redelivered === 0 && byId.size === expectedMail,
      detail: `${emails.rows.length} emails in the outbox, ${byId.size} at the SMTP server (${rig.deliveries.length} deliveries), ${notes.rows.length} notes; duplicates: outbox ${outboxDup.length}, notes ${notesDup.length}, redelivered ${redelivered}`,
    },
    'verify clean': { ok: verified.problems.length === 0, detail: `${verified.records ?? '?'} records, ${verified.problems.length} problems` },
    'attempts bounded': { ok: overCalls.length === 0, detail: `model calls ≤ budget in ${states.size - overCalls.length}/${states.size} runs` },
    'spend bounded': { ok: overSpend.length === 0, detail: `spend ≤ budget in ${states.size - overSpend.length}/${states.size} runs` },
  };
}
