import { createHash, randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import type { EvidenceRecord } from '../contracts/evidence';

/**
 * The project's SQL store: decisions (the "ticket system" the triage writes to), the escalation outbox, and the
 * append-only evidence log. Embedded PGlite (in-process PostgreSQL) by default, so the same SQL runs on a
 * PostgreSQL server in production.
 */
export interface Store {
  readonly db: PGlite;
  close(): Promise<void>;
}

const SCHEMA = `
create table if not exists decisions (
  workflow_id    text primary key,
  event_id       text not null,
  ticket_id      text not null,
  customer_id    text not null,
  category       text not null,
  urgency        text not null,
  outcome        text not null,
  decided_by     text not null,
  prompt_version text not null,
  model          text not null,
  decided_at     timestamptz not null default now()
);
create index if not exists decisions_customer on decisions (customer_id, decided_at desc);

create table if not exists escalations (
  id              bigserial primary key,
  idempotency_key text not null unique,
  ticket_id       text not null,
  customer_id     text not null,
  reason          text not null,
  priority        text not null,
  created_at      timestamptz not null default now()
);

create table if not exists evidence (
  seq             bigserial primary key,
  evidence_id     text not null unique,
  workflow_id     text not null,
  run_id          text not null,
  step_id         text not null,
  actor           text not null,
  tool            text not null,
  args_hash       text not null,
  idempotency_key text not null unique,
  status          text not null check (status in ('success', 'failed')),
  receipt_id      text,
  started_at      timestamptz not null,
  finished_at     timestamptz not null
);
create index if not exists evidence_workflow on evidence (workflow_id, seq);

create table if not exists model_cache (
  key            text primary key,
  prompt_name    text not null,
  prompt_version text not null,
  model          text not null,
  value          jsonb not null,
  created_at     timestamptz not null default now()
);
`;

/** Opens the store: `dataDir` persists to disk; without it the database lives in memory (tests). */
export async function openStore(options: { dataDir?: string } = {}): Promise<Store> {
  const db = await PGlite.create(options.dataDir ? { dataDir: options.dataDir } : {});
  await db.exec(SCHEMA);
  return { db, close: () => db.close() };
}

/** Canonical JSON (sorted keys) so the same arguments always hash the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

interface EvidenceRow {
  evidence_id: string;
  workflow_id: string;
  run_id: string;
  step_id: string;
  actor: string;
  tool: string;
  args_hash: string;
  idempotency_key: string;
  status: 'success' | 'failed';
  receipt_id: string | null;
  started_at: Date;
  finished_at: Date;
}

function toRecord(row: EvidenceRow, deduplicated: boolean): EvidenceRecord {
  return {
    evidenceId: row.evidence_id,
    workflowId: row.workflow_id,
    runId: row.run_id,
    stepId: row.step_id,
    actor: row.actor,
    tool: row.tool,
    argsHash: row.args_hash,
    idempotencyKey: row.idempotency_key,
    status: row.status,
    receiptId: row.receipt_id,
    startedAt: new Date(row.started_at).toISOString(),
    finishedAt: new Date(row.finished_at).toISOString(),
    deduplicated,
  };
}

export interface ToolCall {
  readonly tool: string;
  readonly actor: string;
  readonly workflowId: string;
  readonly runId: string;
  readonly stepId: string;
  readonly idempotencyKey: string;
  readonly args: unknown;
}

type Tx = Parameters<Parameters<PGlite['transaction']>[0]>[0];

/**
 * Runs a write tool exactly once per idempotency key: the effect and its evidence record commit in one transaction,
 * and a retry with the same key (say, after a worker died before reporting completion) gets the original evidence
 * back instead of a second effect.
 */
export async function executeOnce(
  store: Store,
  call: ToolCall,
  effect: (tx: Tx) => Promise<string>,
): Promise<EvidenceRecord> {
  const startedAt = new Date();
  // The check sits inside the transaction: an activity attempt that timed out may still be running when its retry
  // starts, and the two must not both pass it. (The unique key is the last line of defence.)
  return store.db.transaction(async (tx) => {
    const existing = await tx.query<EvidenceRow>('select * from evidence where idempotency_key = $1', [call.idempotencyKey]);
    if (existing.rows[0]) return toRecord(existing.rows[0], true);
    const receiptId = await effect(tx);
    const inserted = await tx.query<EvidenceRow>(
      `insert into evidence (evidence_id, workflow_id, run_id, step_id, actor, tool, args_hash, idempotency_key, status, receipt_id, started_at, finished_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, 'success', $9, $10, now()) returning *`,
      [
        `ev_${randomBytes(8).toString('hex')}`,
        call.workflowId,
        call.runId,
        call.stepId,
        call.actor,
        call.tool,
        sha256(canonicalJson(call.args)),
        call.idempotencyKey,
        receiptId,
        startedAt,
      ],
    );
    return toRecord(inserted.rows[0]!, false);
  });
}

export async function evidenceForWorkflow(store: Store, workflowId: string): Promise<EvidenceRecord[]> {
  const rows = await store.db.query<EvidenceRow>('select * from evidence where workflow_id = $1 order by seq', [workflowId]);
  return rows.rows.map((r) => toRecord(r, false));
}
