import { z } from 'zod';

/**
 * What one agent hands another: not a summary in prose ("I collected the data, you can continue") but a typed
 * artifact reference with the evidence that produced it. The receiver verifies it before using it.
 */
export const Handoff = z.strictObject({
  from: z.string().min(1),
  to: z.string().min(1),
  task: z.string().min(1),
  artifactId: z.string().min(1),
  evidenceId: z.string().min(1),
  status: z.enum(['verified', 'unverified']),
  scope: z.string().min(1),
});
export type Handoff = z.infer<typeof Handoff>;

/** What the receiver expects: who may hand it work, and the scope its task is limited to. */
export interface HandoffExpectation {
  readonly receiver: string;
  readonly from: string;
  readonly scope: string;
  /** The workflow the sender ran as, when the receiver knows it: the evidence must come from that run. */
  readonly senderWorkflowId?: string;
  /** The tools whose receipt is the artifact handed over (`collect_dataset`): evidence of any other tool is refused. */
  readonly artifactTools: readonly string[];
}

export type HandoffVerdict =
  | { readonly ok: true; readonly artifactId: string; readonly contentHash: string; readonly scope: string }
  | { readonly ok: false; readonly reason: string };

