import { Handoff, type HandoffExpectation, type HandoffVerdict } from '../contracts/handoff.js';
import { formatIssues, issuesFrom } from '../contracts/issues.js';
import { evidenceById, recordIntact, resultOf } from './evidence.js';
import { canonicalJson, sha256, type Store } from './store.js';

/**
 * A receiver's check of a handoff, against the evidence store rather than the sender's word: the record exists, is
 * intact, says the sender's tool succeeded and produced this artifact; the artifact is stored with the content the
 * record hashed; sender, receiver and scope are the ones expected. The first failed check is the reason.
 */
export async function verifyHandoff(store: Store, raw: unknown, expected: HandoffExpectation): Promise<HandoffVerdict> {
  const refuse = (reason: string): HandoffVerdict => ({ ok: false, reason });
  const parsed = Handoff.safeParse(raw);
  if (!parsed.success) return refuse(`handoff is malformed: ${formatIssues(issuesFrom(parsed.error))}`);
  const h = parsed.data;
  if (h.to !== expected.receiver) return refuse(`handoff is addressed to ${h.to}, not ${expected.receiver}`);
  if (h.from !== expected.from) return refuse(`handoff comes from ${h.from}; ${expected.receiver} accepts work from ${expected.from} only`);
  if (h.status !== 'verified') return refuse(`sender marked the handoff ${h.status}`);
  if (h.scope !== expected.scope) return refuse(`handoff scope "${h.scope}" does not match the task scope "${expected.scope}"`);

  const evidence = await evidenceById(store, h.evidenceId);
  if (!evidence) return refuse(`evidence ${h.evidenceId} does not exist`);
  if (!recordIntact(evidence)) return refuse(`evidence ${h.evidenceId} does not match its hash (altered)`);
  if (evidence.status !== 'success') return refuse(`evidence ${h.evidenceId} has status ${evidence.status}: the tool did not succeed`);
  if (evidence.actor !== h.from) return refuse(`evidence ${h.evidenceId} was recorded for ${evidence.actor}, not the sender ${h.from}`);
  if (expected.senderWorkflowId && evidence.workflowId !== expected.senderWorkflowId) {
    return refuse(`evidence ${h.evidenceId} was recorded by ${evidence.workflowId}, not the sender's run ${expected.senderWorkflowId}`);
  }
  if (!expected.artifactTools.includes(evidence.tool)) return refuse(`evidence ${h.evidenceId} is a ${evidence.tool} call, which produces no artifact`);
  if (evidence.receiptId !== h.artifactId) return refuse(`evidence ${h.evidenceId} produced ${evidence.receiptId}, not ${h.artifactId}`);

  const result = await resultOf(store, h.evidenceId);
  if (sha256(canonicalJson(result)) !== evidence.resultHash) return refuse(`the stored result of ${h.evidenceId} does not match its recorded hash`);
  const rows = await store.db.query<{ scope: string; content: unknown; content_hash: string }>(
    'select scope, content, content_hash from artifacts where artifact_id = $1',
    [h.artifactId],
  );
  const artifact = rows.rows[0];
  if (!artifact) return refuse(`artifact ${h.artifactId} is not stored`);
  if (sha256(canonicalJson(artifact.content)) !== artifact.content_hash) return refuse(`artifact ${h.artifactId} content does not match its hash`);
  if ((result as { contentHash?: string } | null)?.contentHash !== artifact.content_hash) {
    return refuse(`artifact ${h.artifactId} is not the content evidence ${h.evidenceId} recorded`);
  }
  if (artifact.scope !== h.scope) return refuse(`artifact ${h.artifactId} has scope "${artifact.scope}", the handoff claims "${h.scope}"`);
  return { ok: true, artifactId: h.artifactId, contentHash: artifact.content_hash, scope: artifact.scope };
}
