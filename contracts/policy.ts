import { z } from 'zod';
import { RISK_ORDER, Risk, type ToolFacts } from './tools.js';

/**
 * The permission policy, as data: deny by default; actors hold scopes; some calls need a human's approval. It is
 * evaluated by code (`evaluatePolicy`), never by a prompt, so nothing a model writes can change its answer.
 */
export const Policy = z.strictObject({
  version: z.string().min(1),
  /**
   * Actors (`agent:…`, `workflow:…`), the scopes each holds, and the workflow types that may act as it: an actor's
   * name is not taken on a caller's word. An actor not listed holds nothing.
   */
  actors: z.record(
    z.string(),
    z.strictObject({ scopes: z.array(z.string().min(1)), workflows: z.array(z.string().min(1)).min(1, 'name at least one workflow type that acts as this actor') }),
  ),
  approval: z
    .strictObject({
      /** Calls to tools at or above this risk wait for a human's approval. */
      riskAtOrAbove: Risk.optional(),
      /** Tools that always wait for approval (refunds, external messages, account changes). */
      tools: z.array(z.string()).default([]),
      /** Who may approve a held call. Nobody listed: held calls can only end rejected (at their deadline). */
      approvers: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
  /** Explicit denials, checked before scopes: `tool` and/or `actor` (omitted = any). */
  deny: z.array(z.strictObject({ id: z.string().min(1), tool: z.string().optional(), actor: z.string().optional(), reason: z.string().min(1) })).default([]),
});
export type Policy = z.infer<typeof Policy>;
export type PolicyInput = z.input<typeof Policy>;

export interface PermissionDecision {
  readonly decision: 'allow' | 'require_approval' | 'deny';
  /** The rule that decided, e.g. `scope:payments:refund-not-held`. */
  readonly rule: string;
  readonly policyVersion: string;
  readonly reason: string;
  /** For `require_approval`: who may approve. */
  readonly approvers: readonly string[];
}

/**
 * Deny by default: the first rule that matches decides, in the order written here. `workflowType` is the calling
 * workflow's type, from Temporal, not from the request.
 */
export function evaluatePolicy(policy: Policy, actor: string, tool: ToolFacts | null, toolName: string, workflowType: string): PermissionDecision {
  const decide = (decision: PermissionDecision['decision'], rule: string, reason: string): PermissionDecision => ({
    decision,
    rule,
    reason,
    policyVersion: policy.version,
    approvers: decision === 'require_approval' ? policy.approval.approvers : [],
  });
  if (!tool) return decide('deny', 'tool-unknown', `${toolName} is not in the tool registry`);
  const holder = policy.actors[actor];
  if (!holder) return decide('deny', 'actor-unknown', `${actor} holds no scopes under policy ${policy.version}`);
  if (!holder.workflows.includes(workflowType)) {
    return decide('deny', 'actor-not-for-workflow', `workflow ${workflowType} may not act as ${actor} under policy ${policy.version}`);
  }
  const explicit = policy.deny.find((d) => (d.tool === undefined || d.tool === tool.name) && (d.actor === undefined || d.actor === actor));
  if (explicit) return decide('deny', `deny:${explicit.id}`, explicit.reason);
  if (!holder.scopes.includes(tool.scope)) {
    return decide('deny', `scope:${tool.scope}-not-held`, `${actor} does not hold scope ${tool.scope} required by ${tool.name}`);
  }
  if (policy.approval.tools.includes(tool.name)) return decide('require_approval', `approval:tool:${tool.name}`, `${tool.name} always needs a human's approval`);
  const threshold = policy.approval.riskAtOrAbove;
  if (threshold && RISK_ORDER.indexOf(tool.risk) >= RISK_ORDER.indexOf(threshold)) {
    return decide('require_approval', `approval:risk>=${threshold}`, `${tool.name} is ${tool.risk} risk; calls at or above ${threshold} need approval`);
  }
  return decide('allow', `scope:${tool.scope}`, `${actor} holds ${tool.scope}`);
}

