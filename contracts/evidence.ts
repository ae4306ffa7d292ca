/**
 * An evidence record proves what a tool call did: it is written by the tool layer in the same transaction as the
 * effect, returned into workflow history, and chained to the previous record of the same workflow by hash so that
 * an altered or removed record is detectable. A run's summary is built from these, never from the model's claims.
 */

/** How the call got permission: by policy (`granted`), by a human (`approved`), or not (`denied`, `rejected`). */
export type PermissionOutcome = 'granted' | 'approved' | 'denied' | 'rejected';

/** `success`: the effect happened. `failed`: the tool ran and failed for good. `denied`: it never ran. */
export type EvidenceStatus = 'success' | 'failed' | 'denied';

export interface EvidenceRecord {
  readonly evidenceId: string;
  /** Position in the store's append-only log. */
  readonly seq: number;
  readonly workflowId: string;
  readonly runId: string;
  readonly stepId: string;
  /** Who asked: `agent:complaint-triager`, `workflow:supportTicketTriage`. */
  readonly actor: string;
  /** What the step was for, in the workflow's words (`escalate_complaint`); the tool is how. */
  readonly action: string;
  readonly tool: string;
  /** Resources the call touched, derived from its arguments (`ticket:tkt_9041`). */
  readonly resources: readonly string[];
  readonly argsHash: string;
  /** Hash of the tool's result (null when it never ran): a handoff can prove its artifact is the one recorded. */
  readonly resultHash: string | null;
  readonly permission: PermissionOutcome;
  readonly policyVersion: string;
  /** The policy rule that decided. */
  readonly policyRule: string;
  readonly approver: string | null;
  readonly idempotencyKey: string;
  readonly status: EvidenceStatus;
  /** The external system's id for the effect (message id, refund id). */
  readonly receiptId: string | null;
  /** Why it failed or was denied. */
  readonly detail: string | null;
  /** The lease each written resource was held under (fencing tokens); empty for reads. */
  readonly leases: Readonly<Record<string, number>>;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly prevHash: string | null;
  readonly hash: string | null;
  /** True when this call found the step already recorded under its idempotency key and returned that record. */
  readonly deduplicated: boolean;
}

/**
 * The part of an evidence record a workflow acts on: which step ran which tool, how it ended, under which permission,
 * with which receipt. A governed tool step returns this into history instead of the whole record, and a run's summary
 * reads it back at the end: the whole record (arguments and result hashes, leases, times, its place in the hash
 * chain) stays in the store, where `governor verify` checks the chain, so history carries what decides the run's
 * path and nothing it does not read.
 */
export type EvidenceDigest = Pick<
  EvidenceRecord,
  'evidenceId' | 'stepId' | 'tool' | 'status' | 'permission' | 'policyVersion' | 'policyRule' | 'approver' | 'receiptId' | 'detail'
>;

/** The digest of a record: the same fields, nothing else. */
export function digestOf(r: EvidenceRecord): EvidenceDigest {
  return {
    evidenceId: r.evidenceId,
    stepId: r.stepId,
    tool: r.tool,
    status: r.status,
    permission: r.permission,
    policyVersion: r.policyVersion,
    policyRule: r.policyRule,
    approver: r.approver,
    receiptId: r.receiptId,
    detail: r.detail,
  };
}

/** How much of the evidence record a call returns into history: all of it, or its digest. */
export type EvidenceView = 'full' | 'digest';

/** The record a view returns. */
export type EvidenceOf<V extends EvidenceView> = V extends 'digest' ? EvidenceDigest : EvidenceRecord;

/** What a tool execution returns into history: the result and the evidence that it happened (whole or digest). */
export interface ToolExecution<R = unknown, E extends EvidenceDigest = EvidenceRecord> {
  readonly result: R | null;
  readonly evidence: E;
}
