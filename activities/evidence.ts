import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { EvidenceRecord, EvidenceStatus, PermissionOutcome, ToolExecution } from '../contracts/evidence.js';
import { FailureType } from '../contracts/failures.js';
import { evidenceAttributes, inSpan } from './spans.js';
import type { SqlQueryable } from './sql.js';
import { canonicalJson, sha256, type Store } from './store.js';

/** The chain's first link: a workflow's first record points here. */
export const GENESIS_HASH = '0'.repeat(64);

interface EvidenceRow {
  seq: number | string;
  evidence_id: string;
  workflow_id: string;
  run_id: string;
  step_id: string;
  actor: string;
  action: string;
  tool: string;
  resources: string[];
  args_hash: string;
  result_hash: string | null;
  result: unknown;
  permission: PermissionOutcome;
  policy_version: string;
  policy_rule: string;
  approver: string | null;
  idempotency_key: string;
  status: EvidenceStatus;
  receipt_id: string | null;
  detail: string | null;
  leases: Record<string, number>;
  started_at: Date | string;
  finished_at: Date | string;
  prev_hash: string | null;
  hash: string | null;
}

function toRecord(row: EvidenceRow, deduplicated: boolean): EvidenceRecord {
  return {
    evidenceId: row.evidence_id,
    seq: Number(row.seq),
    workflowId: row.workflow_id,
    runId: row.run_id,
    stepId: row.step_id,
    actor: row.actor,
    action: row.action,
    tool: row.tool,
    resources: row.resources,
    argsHash: row.args_hash,
    resultHash: row.result_hash,
    permission: row.permission,
    policyVersion: row.policy_version,
    policyRule: row.policy_rule,
    approver: row.approver,
    idempotencyKey: row.idempotency_key,
    status: row.status,
    receiptId: row.receipt_id,
    detail: row.detail,
    leases: Object.fromEntries(Object.entries(row.leases ?? {}).map(([k, v]) => [k, Number(v)])),
    startedAt: new Date(row.started_at).toISOString(),
    finishedAt: new Date(row.finished_at).toISOString(),
    prevHash: row.prev_hash,
    hash: row.hash,
    deduplicated,
  };
}

/** The fields a record's hash covers: everything it says, plus the previous record's hash. */
function hashOf(r: Omit<EvidenceRecord, 'seq' | 'hash' | 'deduplicated'>): string {
  return sha256(
    canonicalJson({
      evidenceId: r.evidenceId,
      workflowId: r.workflowId,
      runId: r.runId,
      stepId: r.stepId,
      actor: r.actor,
      action: r.action,
      tool: r.tool,
      resources: r.resources,
      argsHash: r.argsHash,
      resultHash: r.resultHash,
      permission: r.permission,
      policyVersion: r.policyVersion,
      policyRule: r.policyRule,
      approver: r.approver,
      idempotencyKey: r.idempotencyKey,
      status: r.status,
      receiptId: r.receiptId,
      detail: r.detail,
      leases: r.leases,
      startedAt: r.startedAt,
      finishedAt: r.finishedAt,
      prevHash: r.prevHash,
    }),
  );
}

/** True when a stored record still matches its own hash (it was not edited after it was written). */
export function recordIntact(record: EvidenceRecord): boolean {
  return record.hash !== null && hashOf(record) === record.hash;
}

/** The stored result of a step, as the tool returned it (null when it never ran). */
export async function resultOf(store: Store, evidenceId: string): Promise<unknown> {
  const rows = await store.db.query<{ result: unknown }>('select result from evidence where evidence_id = $1', [evidenceId]);
  return rows.rows[0]?.result ?? null;
}

/** What a tool call is, who asked, and on what authority: everything evidence records except the outcome. */
export interface ToolCall {
  readonly tool: string;
  readonly action: string;
  readonly actor: string;
  readonly workflowId: string;
  readonly runId: string;
  readonly stepId: string;
  readonly idempotencyKey: string;
  readonly args: unknown;
  readonly resources: readonly string[];
  readonly permission: { readonly outcome: PermissionOutcome; readonly policyVersion: string; readonly rule: string; readonly approver: string | null };
  /** Fencing tokens of the leases held on the written resources. */
  readonly leases?: Readonly<Record<string, number>>;
}

interface Outcome {
  readonly status: EvidenceStatus;
  readonly receiptId: string | null;
  readonly result: unknown;
  readonly detail: string | null;
  readonly startedAt: Date;
}

async function existing(tx: SqlQueryable, key: string): Promise<EvidenceRow | undefined> {
  return (await tx.query<EvidenceRow>('select * from evidence where idempotency_key = $1', [key])).rows[0];
}

/** Appends one record to its workflow's chain. Runs inside the caller's transaction. */
async function append(tx: SqlQueryable, call: ToolCall, outcome: Outcome): Promise<EvidenceRow> {
  // One writer per workflow chain at a time, so two parallel steps cannot both link to the same predecessor.
  // (Lock namespace 2: chains; namespace 1: idempotency keys.)
  await tx.query('select pg_advisory_xact_lock(2, hashtext($1))', [call.workflowId]);
  const last = await tx.query<{ hash: string | null }>('select hash from evidence where workflow_id = $1 order by seq desc limit 1', [call.workflowId]);
  const fields = {
    evidenceId: `ev_${randomBytes(8).toString('hex')}`,
    workflowId: call.workflowId,
    runId: call.runId,
    stepId: call.stepId,
    actor: call.actor,
    action: call.action,
    tool: call.tool,
    resources: [...call.resources],
    argsHash: sha256(canonicalJson(call.args)),
    resultHash: outcome.status === 'success' ? sha256(canonicalJson(outcome.result ?? null)) : null,
    permission: call.permission.outcome,
    policyVersion: call.permission.policyVersion,
    policyRule: call.permission.rule,
    approver: call.permission.approver,
    idempotencyKey: call.idempotencyKey,
    status: outcome.status,
    receiptId: outcome.receiptId,
    detail: outcome.detail,
    leases: { ...(call.leases ?? {}) },
    startedAt: outcome.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    prevHash: last.rows[0]?.hash ?? GENESIS_HASH,
  };
  const inserted = await tx.query<EvidenceRow>(
    `insert into evidence (evidence_id, workflow_id, run_id, step_id, actor, action, tool, resources, args_hash, result_hash, result,
       permission, policy_version, policy_rule, approver, idempotency_key, status, receipt_id, detail, leases, started_at, finished_at, prev_hash, hash)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24) returning *`,
    [
      fields.evidenceId, fields.workflowId, fields.runId, fields.stepId, fields.actor, fields.action, fields.tool,
      JSON.stringify(fields.resources), fields.argsHash, fields.resultHash, JSON.stringify(outcome.result ?? null),
      fields.permission, fields.policyVersion, fields.policyRule, fields.approver, fields.idempotencyKey, fields.status,
      fields.receiptId, fields.detail, JSON.stringify(fields.leases), fields.startedAt, fields.finishedAt, fields.prevHash, hashOf(fields),
    ],
  );
  return inserted.rows[0]!;
}

/**
 * Checks each lease token against the resource's fence and moves the fence forward. A token older than one already
 * seen means the lease expired and someone else owns the resource now: the write is refused, never interleaved.
 */
async function checkFences(tx: SqlQueryable, leases: Readonly<Record<string, number>>): Promise<void> {
  for (const [resource, token] of Object.entries(leases).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const moved = await tx.query(
      `insert into resource_fences (resource, token) values ($1, $2)
       on conflict (resource) do update set token = excluded.token, updated_at = now() where resource_fences.token <= excluded.token
       returning token`,
      [resource, token],
    );
    if (moved.rows.length === 0) {
      throw ApplicationFailure.create({
        type: FailureType.LeaseLost,
        nonRetryable: true,
        message: `lease ${token} on ${resource} is stale: a newer owner has written it`,
      });
    }
  }
}

export interface EffectResult {
  readonly receiptId: string | null;
  readonly result: unknown;
}

/**
 * Runs a tool exactly once per idempotency key: the effect and its evidence record commit in one transaction, and a
 * retry with the same key (say, after a worker died before reporting completion) gets the original result and
 * evidence back instead of a second effect.
 */
export async function executeOnce(
  store: Store,
  call: ToolCall,
  effect: (tx: SqlQueryable) => Promise<EffectResult>,
  startedAt = new Date(),
): Promise<ToolExecution> {
  return recordOnce(store, call, { sameCall: true }, async (tx) => {
    await checkFences(tx, call.leases ?? {});
    const done = await effect(tx);
    const row = await append(tx, call, { status: 'success', receiptId: done.receiptId, result: done.result, detail: null, startedAt });
    return { result: done.result, evidence: toRecord(row, false) };
  });
}

/**
 * The one way a record is written: in a transaction holding the key's lock, answering with the record already under
 * the key (deduplicated) when there is one, else writing through `write`. The check sits inside the transaction: an
 * activity attempt that timed out may still be running when its retry starts, and the two must not both pass it.
 * (The unique key is the last line of defence.)
 */
async function recordOnce(
  store: Store,
  call: ToolCall,
  options: { readonly sameCall: boolean },
  write: (tx: SqlQueryable) => Promise<ToolExecution>,
): Promise<ToolExecution> {
  return inSpan('governor.evidence', { 'governor.evidence.key': call.idempotencyKey, 'gen_ai.tool.name': call.tool }, async (span) => {
    const execution = await store.db.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock(1, hashtext($1))', [call.idempotencyKey]);
      const found = await existing(tx, call.idempotencyKey);
      if (!found) return write(tx);
      if (options.sameCall) sameCall(found, call);
      return deduplicated(found);
    });
    span.setAttributes({ ...evidenceAttributes(execution.evidence), 'governor.evidence.hash': execution.evidence.hash ?? '' });
    return execution;
  });
}

/** A record already under the key, as the answer to a repeated call. */
function deduplicated(found: EvidenceRow): ToolExecution {
  return { result: found.result ?? null, evidence: toRecord(found, true) };
}

/**
 * Records a step that did not execute (`denied`) or failed for good (`failed`). Idempotent on the key like every
 * record; if the step already has one (a late success, say), that record is returned and nothing is written.
 */
export async function recordOutcome(store: Store, call: ToolCall, status: 'failed' | 'denied', detail: string): Promise<ToolExecution> {
  const startedAt = new Date();
  return recordOnce(store, call, { sameCall: false }, async (tx) => ({
    result: null,
    evidence: toRecord(await append(tx, call, { status, receiptId: null, result: null, detail, startedAt }), false),
  }));
}

/**
 * A key names one call: the same tool with the same arguments. Reusing it for anything else is a bug in the caller,
 * and answering with the other call's result would be a lie, so it is refused.
 */
function sameCall(found: EvidenceRow, call: ToolCall): void {
  const argsHash = sha256(canonicalJson(call.args));
  if (found.tool !== call.tool || found.args_hash !== argsHash) {
    throw ApplicationFailure.create({
      type: FailureType.IdempotencyConflict,
      nonRetryable: true,
      message: `idempotency key ${call.idempotencyKey} already recorded ${found.tool} with other arguments (${found.evidence_id})`,
    });
  }
}

export async function evidenceForWorkflow(store: Store, workflowId: string): Promise<EvidenceRecord[]> {
  const rows = await store.db.query<EvidenceRow>('select * from evidence where workflow_id = $1 order by seq', [workflowId]);
  return rows.rows.map((r) => toRecord(r, false));
}

export async function evidenceById(store: Store, evidenceId: string): Promise<EvidenceRecord | null> {
  const rows = await store.db.query<EvidenceRow>('select * from evidence where evidence_id = $1', [evidenceId]);
  return rows.rows[0] ? toRecord(rows.rows[0], false) : null;
}

export interface VerifyProblem {
  readonly seq: number;
  readonly evidenceId: string;
  readonly workflowId: string;
  readonly problem: string;
}

export interface VerifyReport {
  readonly workflows: number;
  readonly records: number;
  /** Records written before the chain existed: not verifiable, reported rather than failed. */
  readonly unchained: number;
  readonly problems: VerifyProblem[];
}

/**
 * Recomputes every record's hash and walks each workflow's chain. An edited record fails its own hash; a removed or
 * reordered one breaks the next record's link. (Removing a chain's *last* records leaves a shorter valid chain: the
 * workflow's history, which holds every evidence id it was given, is the check for that.)
 */
export async function verifyEvidence(store: Store, workflowId?: string): Promise<VerifyReport> {
  const rows = await store.db.query<EvidenceRow>(
    workflowId ? 'select * from evidence where workflow_id = $1 order by seq' : 'select * from evidence order by workflow_id, seq',
    workflowId ? [workflowId] : [],
  );
  const problems: VerifyProblem[] = [];
  const last = new Map<string, string>();
  let unchained = 0;
  for (const row of rows.rows) {
    const r = toRecord(row, false);
    const at = { seq: r.seq, evidenceId: r.evidenceId, workflowId: r.workflowId };
    if (r.hash === null) {
      // Rows from before the chain are all older than every chained row of their workflow; one after is a hash removed.
      if (last.has(r.workflowId)) problems.push({ ...at, problem: 'the record hash was removed' });
      else unchained++;
      continue;
    }
    const expectedPrev = last.get(r.workflowId) ?? GENESIS_HASH;
    if (hashOf(r) !== r.hash) problems.push({ ...at, problem: 'contents do not match the record hash: the record was altered' });
    else if (r.prevHash !== expectedPrev) problems.push({ ...at, problem: 'previous-record link is broken: a record before it was removed, altered or reordered' });
    else if (r.status === 'success' && sha256(canonicalJson(row.result ?? null)) !== r.resultHash) {
      problems.push({ ...at, problem: 'the stored result does not match the recorded result hash: the result was altered' });
    }
    last.set(r.workflowId, r.hash);
  }
  return { workflows: new Set(rows.rows.map((r) => r.workflow_id)).size, records: rows.rows.length, unchained, problems };
}

// Effects outside this database (activities/external.ts): the lookup and the append are split there, because the
// downstream call between them must not run inside a transaction.

/** The record already under the call's key (checked to be the same call), returned as deduplicated; or null. */
export async function recordedExecution(store: Store, call: ToolCall): Promise<ToolExecution | null> {
  const found = await existing(store.db, call.idempotencyKey);
  if (!found) return null;
  sameCall(found, call);
  return deduplicated(found);
}

/** Checks (and moves) the fences of the call's leases in a short transaction of its own, before a downstream call. */
export async function checkLeases(store: Store, leases: Readonly<Record<string, number>>): Promise<void> {
  if (Object.keys(leases).length === 0) return;
  await store.db.transaction((tx) => checkFences(tx, leases));
}

/**
 * Appends the success of an effect that already happened downstream under the call's key, unless the key has a
 * record already (then that one is returned, deduplicated). No fence check here: the effect has happened, and a
 * record must not be refused for it (the fence was checked before the downstream call).
 */
export async function appendExternalSuccess(store: Store, call: ToolCall, done: EffectResult, startedAt: Date): Promise<ToolExecution> {
  return recordOnce(store, call, { sameCall: true }, async (tx) => {
    const row = await append(tx, call, { status: 'success', receiptId: done.receiptId, result: done.result, detail: null, startedAt });
    return { result: done.result, evidence: toRecord(row, false) };
  });
}
