import type { EvidenceDigest } from '../contracts/evidence.js';

export interface ActionSummary {
  readonly stepId: string;
  readonly tool: string;
  /** `done` only with a `success` evidence record. */
  readonly status: 'done' | 'not_done';
  readonly because: string;
  readonly evidenceId: string | null;
  readonly receiptId: string | null;
}

export interface ClaimCheck {
  readonly claim: string;
  readonly supported: boolean;
  readonly detail: string;
}

/**
 * Something a model tends to say it did, and the tools whose success evidence would make the claim true. A claim
 * with no such record is reported as unsupported: the model's words are a claim, the evidence is the fact.
 */
export interface ClaimRule {
  readonly claim: string;
  readonly pattern: RegExp;
  readonly tools: readonly string[];
}

export interface EvidenceSummary {
  readonly actions: ActionSummary[];
  /** What the model said it did, checked against evidence. */
  readonly claims: ClaimCheck[];
  /** Evidence the run was given that the store no longer holds: removed records. Empty when all is well. */
  readonly missingFromStore: string[];
  /** One line per action, unsupported claim and missing record. */
  readonly lines: string[];
}

/** True when a `success` record exists for one of `tools`: the only way an action counts as done. */
export function succeeded(records: readonly EvidenceDigest[], tools: readonly string[]): boolean {
  return records.some((r) => tools.includes(r.tool) && r.status === 'success');
}

function because(r: EvidenceDigest): string {
  if (r.status === 'success') return `${r.permission === 'approved' ? `approved by ${r.approver}, ` : ''}receipt ${r.receiptId ?? '(none)'}`;
  if (r.status === 'denied' && r.permission === 'denied') return `denied by policy ${r.policyVersion} rule ${r.policyRule}: ${r.detail ?? ''}`;
  if (r.status === 'denied') return `not approved (${r.detail ?? 'no approval'})`;
  return `failed: ${r.detail ?? 'unknown error'}`;
}

/**
 * The run's summary, from evidence records (or their digests, `evidenceDigests`) only: an action is `done` when and only when a `success` record exists
 * for it. `expected` names tools the workflow meant to run; one with no record at all is reported as not done.
 */
export function summarizeFromEvidence(
  records: readonly EvidenceDigest[],
  options: {
    readonly writesOnly: ReadonlySet<string>;
    readonly expected: readonly string[];
    readonly modelClaim: string;
    /** Evidence ids the run was handed during its steps (its history): each must still be in the store. */
    readonly given: readonly string[];
    /** Claims to check the model's words against. */
    readonly claims: readonly ClaimRule[];
  },
): EvidenceSummary {
  const stored = new Set(records.map((r) => r.evidenceId));
  const missingFromStore = options.given.filter((id) => !stored.has(id));
  const writes = records.filter((r) => options.writesOnly.has(r.tool));
  const actions: ActionSummary[] = writes.map((r) => ({
    stepId: r.stepId,
    tool: r.tool,
    status: r.status === 'success' ? 'done' : 'not_done',
    because: because(r),
    evidenceId: r.evidenceId,
    receiptId: r.receiptId,
  }));
  for (const tool of options.expected) {
    if (!writes.some((r) => r.tool === tool)) {
      actions.push({ stepId: '-', tool, status: 'not_done', because: `no ${tool} step ran (no evidence record)`, evidenceId: null, receiptId: null });
    }
  }
  const claims: ClaimCheck[] = options.claims.filter((c) => c.pattern.test(options.modelClaim)).map((c) => ({
    claim: c.claim,
    supported: succeeded(writes, c.tools),
    detail: succeeded(writes, c.tools)
      ? `evidence: ${writes.filter((r) => c.tools.includes(r.tool) && r.status === 'success').map((r) => r.evidenceId).join(', ')}`
      : `the model said so, but no ${c.tools.join(' or ')} call succeeded`,
  }));
  const lines = [
    ...actions.map((a) => `${a.tool} [${a.stepId}]: ${a.status === 'done' ? 'done' : 'NOT done'} (${a.because})${a.evidenceId ? ` evidence ${a.evidenceId}` : ''}`),
    ...claims.filter((c) => !c.supported).map((c) => `Unsupported model claim: ${c.claim} (${c.detail}).`),
    ...missingFromStore.map((id) => `Evidence ${id} was recorded during the run but is missing from the store.`),
  ];
  return { actions, claims, missingFromStore, lines };
}
