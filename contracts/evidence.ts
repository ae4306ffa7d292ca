/**
 * An evidence record proves that a tool ran: it is written by the tool layer in the same transaction as the effect,
 * and returned into workflow history. A run's summary is built from these, never from the model's claims.
 */
export interface EvidenceRecord {
  readonly evidenceId: string;
  readonly workflowId: string;
  readonly runId: string;
  readonly stepId: string;
  readonly actor: string;
  readonly tool: string;
  readonly argsHash: string;
  readonly idempotencyKey: string;
  readonly status: 'success' | 'failed';
  readonly receiptId: string | null;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** True when this call found the effect already done under the same idempotency key and returned its record. */
  readonly deduplicated: boolean;
}
