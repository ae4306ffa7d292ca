import type { ActionSummary, ClaimCheck, ComplaintSummary } from '../../contracts/complaint';
import type { EvidenceRecord } from '../../contracts/evidence';

/**
 * Things a model tends to say it did, and the tools whose success evidence would make the claim true. A claim with
 * no such record is reported as unsupported: the model's words are a claim, the evidence is the fact.
 */
const CLAIMS: ReadonlyArray<{ claim: string; pattern: RegExp; tools: readonly string[] }> = [
  { claim: 'an email was sent', pattern: /\b(sent|emailed|forwarded|notified)\b/i, tools: ['send_escalation_email', 'send_customer_email'] },
  { claim: 'a refund was issued', pattern: /\brefunded\b|\brefund\b[^.]*\b(issued|processed|completed|sent)\b|\b(issued|processed)\b[^.]*\brefund\b/i, tools: ['issue_refund'] },
  { claim: 'a note was added to the ticket', pattern: /\b(noted|added a note|left a note)\b/i, tools: ['add_ticket_note'] },
];

function because(r: EvidenceRecord): string {
  if (r.status === 'success') return `${r.permission === 'approved' ? `approved by ${r.approver}, ` : ''}receipt ${r.receiptId ?? '(none)'}`;
  if (r.status === 'denied' && r.permission === 'denied') return `denied by policy ${r.policyVersion} rule ${r.policyRule}: ${r.detail ?? ''}`;
  if (r.status === 'denied') return `not approved (${r.detail ?? 'no approval'})`;
  return `failed: ${r.detail ?? 'unknown error'}`;
}

/**
 * The run's summary, from evidence records only: an action is `done` when and only when a `success` record exists
 * for it. `expected` names tools the workflow meant to run; one with no record at all is reported as not done.
 */
export function summarizeFromEvidence(
  records: readonly EvidenceRecord[],
  options: {
    readonly writesOnly: ReadonlySet<string>;
    readonly expected: readonly string[];
    readonly modelClaim: string;
    /** Evidence ids the run was handed during its steps (its history): each must still be in the store. */
    readonly given: readonly string[];
  },
): ComplaintSummary {
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
  const succeeded = (tools: readonly string[]) => writes.some((r) => tools.includes(r.tool) && r.status === 'success');
  const claims: ClaimCheck[] = CLAIMS.filter((c) => c.pattern.test(options.modelClaim)).map((c) => ({
    claim: c.claim,
    supported: succeeded(c.tools),
    detail: succeeded(c.tools)
      ? `evidence: ${writes.filter((r) => c.tools.includes(r.tool) && r.status === 'success').map((r) => r.evidenceId).join(', ')}`
      : `the model said so, but no ${c.tools.join(' or ')} call succeeded`,
  }));
  const escalationEmailSent = succeeded(['send_escalation_email']);
  const lines = [
    `Escalation email: ${escalationEmailSent ? 'sent' : 'NOT sent'}.`,
    ...actions.map((a) => `${a.tool} [${a.stepId}]: ${a.status === 'done' ? 'done' : 'NOT done'} (${a.because})${a.evidenceId ? ` evidence ${a.evidenceId}` : ''}`),
    ...claims.filter((c) => !c.supported).map((c) => `Unsupported model claim: ${c.claim} (${c.detail}).`),
    ...missingFromStore.map((id) => `Evidence ${id} was recorded during the run but is missing from the store.`),
  ];
  return { actions, claims, escalationEmailSent, missingFromStore, text: lines.join('\n') };
}
