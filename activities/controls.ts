import { NORMAL_CONTROLS, type WorkflowControls } from '../contracts/controls.js';
import type { SqlQueryable } from './sql.js';
import type { Store } from './store.js';


export type ControlName = 'review_only' | 'fallback_chain' | 'rollout_frozen';
export const CONTROL_NAMES: readonly ControlName[] = ['review_only', 'fallback_chain', 'rollout_frozen'];

export interface ControlChange {
  readonly seq: number;
  readonly workflowType: string;
  readonly control: ControlName;
  readonly from: boolean;
  readonly to: boolean;
  readonly actor: string;
  readonly reason: string;
  readonly at: string;
}

async function read(db: SqlQueryable, workflowType: string): Promise<WorkflowControls> {
  const row = (
    await db.query<{ review_only: boolean; fallback_chain: boolean; rollout_frozen: boolean }>(
      'select review_only, fallback_chain, rollout_frozen from workflow_controls where workflow_type = $1',
      [workflowType],
    )
  ).rows[0];
  return row ? { reviewOnly: row.review_only, fallbackChain: row.fallback_chain, rolloutFrozen: row.rollout_frozen } : NORMAL_CONTROLS;
}

/** The controls in force for a workflow type: what a run reads once, at its start. */
export function readControls(store: Store, workflowType: string): Promise<WorkflowControls> {
  return read(store.db, workflowType);
}

/**
 * Sets one control, recording the change (who, why, from, to) in the same transaction; setting it to what it already
 * is changes and records nothing, so several workers' monitors seeing the same breach act once.
 */
export async function setControl(
  store: Store,
  change: { workflowType: string; control: ControlName; value: boolean; actor: string; reason: string },
): Promise<boolean> {
  return store.db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock(4, hashtext($1))', [change.workflowType]); // namespace 4: controls
    await tx.query('insert into workflow_controls (workflow_type) values ($1) on conflict (workflow_type) do nothing', [change.workflowType]);
    const current = await tx.query<Record<ControlName, boolean>>(`select ${change.control} from workflow_controls where workflow_type = $1`, [change.workflowType]);
    const from = current.rows[0]![change.control];
    if (from === change.value) return false;
    await tx.query(`update workflow_controls set ${change.control} = $2 where workflow_type = $1`, [change.workflowType, change.value]);
    await tx.query(
      'insert into workflow_control_changes (workflow_type, control, from_value, to_value, actor, reason) values ($1, $2, $3, $4, $5, $6)',
      [change.workflowType, change.control, from, change.value, change.actor, change.reason],
    );
    return true;
  });
}

/** Every recorded change, oldest first (optionally of one workflow type). */
export async function controlChanges(store: Store, workflowType?: string): Promise<ControlChange[]> {
  const rows = await store.db.query<{
    seq: string;
    workflow_type: string;
    control: ControlName;
    from_value: boolean;
    to_value: boolean;
    actor: string;
    reason: string;
    at: Date;
  }>(
    `select seq, workflow_type, control, from_value, to_value, actor, reason, at from workflow_control_changes
     ${workflowType ? 'where workflow_type = $1' : ''} order by seq`,
    workflowType ? [workflowType] : [],
  );
  return rows.rows.map((r) => ({
    seq: Number(r.seq),
    workflowType: r.workflow_type,
    control: r.control,
    from: r.from_value,
    to: r.to_value,
    actor: r.actor,
    reason: r.reason,
    at: new Date(r.at).toISOString(),
  }));
}

/**
 * Records whether an SLO is breached; true only for the caller that changed it (an SLO never seen counts as not
 * breached). Every worker's monitor may see the same breach: only the one whose write flips the state acts on it.
 */
export async function flipSloState(store: Store, slo: string, breached: boolean): Promise<boolean> {
  return store.db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock(4, hashtext($1))', [`slo:${slo}`]);
    const current = (await tx.query<{ breached: boolean }>('select breached from slo_breaches where slo = $1', [slo])).rows[0]?.breached ?? false;
    if (current === breached) return false;
    await tx.query(
      `insert into slo_breaches (slo, breached) values ($1, $2)
       on conflict (slo) do update set breached = excluded.breached, changed_at = now()`,
      [slo, breached],
    );
    return true;
  });
}

/** The SLOs currently recorded as breached. */
export async function breachedSlos(store: Store): Promise<Set<string>> {
  const rows = await store.db.query<{ slo: string }>('select slo from slo_breaches where breached');
  return new Set(rows.rows.map((r) => r.slo));
}
