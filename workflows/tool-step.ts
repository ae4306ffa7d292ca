import { ActivityFailure, ApplicationFailure, log, proxyActivities, proxyLocalActivities, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import type { Activities, ToolRequest } from '../activities/index.js';
import type { EvidenceDigest } from '../contracts/evidence.js';
import { nonRetryableTypes } from '../contracts/failures.js';
import { idempotencyKey, type StepId } from '../contracts/ids.js';
import type { ValidationIssue } from '../contracts/issues.js';
import { checkToolCall, type ToolRegistry } from '../contracts/tools.js';
import type { LeaseOptions, Leases } from './lease.js';

/** The permission check is a fast, pure evaluation on the worker: a short timeout, a few attempts. */
const PERMISSION: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', maximumInterval: '5s', maximumAttempts: 5 },
};

/**
 * Recording a denial or a failure must outlast what made the tool fail (often the database itself): more patient
 * than the tool's own profile, about five minutes of attempts, then the workflow task fails and Temporal retries it.
 */
const RECORD: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '60s', maximumAttempts: 10 },
};

const regular = { checkPermission: proxyActivities<Activities>(PERMISSION).checkPermission, recordToolOutcome: proxyActivities<Activities>(RECORD).recordToolOutcome };
const local = { checkPermission: proxyLocalActivities<Activities>(PERMISSION).checkPermission, recordToolOutcome: proxyLocalActivities<Activities>(RECORD).recordToolOutcome };


export type ToolCallOutcome =
  | { readonly status: 'done'; readonly tool: string; readonly stepId: string; readonly result: unknown; readonly evidence: EvidenceDigest }
  /** Arguments failed the tool's schema: nothing ran and nothing is recorded; the caller asks the model to repair. */
  | { readonly status: 'invalid_args'; readonly tool: string; readonly stepId: string; readonly issues: ValidationIssue[] }
  /** The policy denied it: recorded with the rule, never executed. */
  | { readonly status: 'denied'; readonly tool: string; readonly stepId: string; readonly rule: string; readonly reason: string; readonly evidence: EvidenceDigest }
  /** It needed approval and did not get it (a human said no, or nobody answered in time). */
  | { readonly status: 'rejected'; readonly tool: string; readonly stepId: string; readonly approver: string | null; readonly reason: string; readonly evidence: EvidenceDigest }
  /** It ran and failed after its retries (or the tool layer refused it): recorded as failed. */
  | { readonly status: 'failed'; readonly tool: string; readonly stepId: string; readonly detail: string; readonly evidence: EvidenceDigest };

export interface ApprovalRequest {
  readonly stepId: string;
  readonly tool: string;
  readonly action: string;
  readonly args: unknown;
  readonly rule: string;
  readonly reason: string;
  /** Who may approve, from the policy. */
  readonly approvers: readonly string[];
}

export interface ApprovalAnswer {
  readonly approved: boolean;
  /** Null when nobody answered before the deadline. */
  readonly approver: string | null;
  readonly note?: string;
}

export interface ToolStepContext {
  /** The tools this workflow may call, by name (a model's proposal names one of these). */
  readonly tools: ToolRegistry;
  /** Who is asking, as the policy knows them (`agent:complaint-triager`). */
  readonly actor: string;
  readonly leases: Leases;
  readonly leaseOptions: LeaseOptions;
  /** The workflow's approval gate: resolves when a human answered or the deadline passed. */
  approve(request: ApprovalRequest): Promise<ApprovalAnswer>;
  /**
   * The resources this run may touch, by the tool's kind (default: any the policy allows). The policy decides on tools
   * and scopes, never on arguments; a run that acts for one case says here which resources are that case's, and a call
   * touching any other is denied (rule `resource-out-of-scope`) and recorded like a policy denial, never executed.
   */
  readonly inScope?: (resource: string, kind: 'read' | 'write') => boolean;
  /**
   * Run every step of a call on the worker as local activities (permission check, lease request, execution, the
   * record of a denial or failure): each is one marker in history instead of three events and a workflow task of its
   * own. The guarantees stay: the policy decides before anything runs, writes hold their leases, the idempotency key
   * makes a repeated execution (a worker lost mid-task runs a local activity again) a no-op, and the evidence is
   * written by the same activity. What changes is what history shows: a local activity's attempts are counted in
   * its marker, not recorded one by one. A workflow turns it on behind a version marker (`patched`).
   */
  readonly local?: boolean;
}

export interface ToolCall {
  /** Stable step id: the idempotency key is `workflowId/stepId`. */
  readonly step: StepId;
  readonly action: string;
  readonly tool: string;
  readonly args: unknown;
}

function failureDetail(err: unknown): string {
  if (err instanceof ActivityFailure) {
    const cause = err.cause;
    return cause instanceof ApplicationFailure ? `${cause.type ?? 'Error'}: ${cause.message}` : (cause?.message ?? err.message);
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * One governed tool call: arguments validated against the registry → permission check (policy: actor, scope, risk)
 * → the run's resource scope, if it declares one → the approval gate if the policy asks → execution with the
 * idempotency key `workflowId/stepId`, holding the lease of every resource a write touches → evidence. Every way it
 * ends is a typed outcome with the digest of its evidence record (an invalid call has none: nothing ran, and the caller repairs it).
 */
export async function governedToolCall(ctx: ToolStepContext, call: ToolCall): Promise<ToolCallOutcome> {
  const outcome = await governedToolCallInner(ctx, call);
  // One line per tool call: what ran, on whose authority, how it ended; never its arguments or result.
  log.info('tool call', {
    step: call.step,
    tool: call.tool,
    actor: ctx.actor,
    status: outcome.status,
    evidenceId: outcome.status === 'invalid_args' ? null : outcome.evidence.evidenceId,
    permission: outcome.status === 'invalid_args' ? null : outcome.evidence.permission,
  });
  return outcome;
}

async function governedToolCallInner(ctx: ToolStepContext, call: ToolCall): Promise<ToolCallOutcome> {
  const workflowId = workflowInfo().workflowId;
  const base = { tool: call.tool, stepId: call.step };
  const checked = checkToolCall(ctx.tools, call.tool, call.args);
  if (!checked.ok) return { ...base, status: 'invalid_args', issues: checked.issues };
  const { spec, args } = checked;
  const request: ToolRequest & { evidence: 'digest' } = {
    tool: spec.name,
    action: call.action,
    actor: ctx.actor,
    args,
    workflowId,
    stepId: call.step,
    idempotencyKey: idempotencyKey(workflowId, call.step),
    // History keeps the digest the step acts on; the whole record stays in the store, in its chain.
    evidence: 'digest',
  };

  const { checkPermission, recordToolOutcome } = ctx.local ? local : regular;
  const permission = await checkPermission({ actor: ctx.actor, tool: spec.name });
  const decided = { policyVersion: permission.policyVersion, rule: permission.rule };
  if (permission.decision === 'deny') {
    const { evidence } = await recordToolOutcome({
      ...request,
      permission: { outcome: 'denied', approver: null, ...decided },
      status: 'denied',
      detail: permission.reason,
    });
    return { ...base, status: 'denied', rule: permission.rule, reason: permission.reason, evidence };
  }
  // After the policy, so its own denial wins and the record names the policy version; before approval, so nobody is
  // asked to approve what this run may not do at all.
  const outside = ctx.inScope ? spec.resources(args).filter((r) => !ctx.inScope!(r, spec.kind)) : [];
  if (outside.length > 0) {
    const rule = 'resource-out-of-scope';
    const reason = `${spec.name} would ${spec.kind} ${outside.join(', ')}, outside what this run may ${spec.kind}`;
    const { evidence } = await recordToolOutcome({ ...request, permission: { outcome: 'denied', approver: null, policyVersion: permission.policyVersion, rule }, status: 'denied', detail: reason });
    return { ...base, status: 'denied', rule, reason, evidence };
  }

  let approver: string | null = null;
  if (permission.decision === 'require_approval') {
    const answer = await ctx.approve({ stepId: call.step, tool: spec.name, action: call.action, args, rule: permission.rule, reason: permission.reason, approvers: permission.approvers });
    if (!answer.approved) {
      const reason = answer.approver ? `rejected by ${answer.approver}${answer.note ? `: ${answer.note}` : ''}` : 'no approval before the deadline';
      const { evidence } = await recordToolOutcome({
        ...request,
        permission: { outcome: 'rejected', approver: answer.approver, ...decided },
        status: 'denied',
        detail: reason,
      });
      return { ...base, status: 'rejected', approver: answer.approver, reason, evidence };
    }
    approver = answer.approver;
  }
  const authorised: ToolRequest = { ...request, permission: { outcome: approver ? 'approved' : 'granted', approver, ...decided } };

  const profile: ActivityOptions = {
    startToCloseTimeout: spec.profile.startToCloseTimeout,
    retry: {
      initialInterval: spec.profile.initialInterval,
      maximumInterval: spec.profile.maximumInterval,
      backoffCoefficient: 2,
      maximumAttempts: spec.profile.maximumAttempts,
      // From the failure table: a tool whose breaker is open waits for the half-open probe and retries.
      nonRetryableErrorTypes: nonRetryableTypes('tool'),
    },
  };
  const { executeTool } = ctx.local ? proxyLocalActivities<Activities>(profile) : proxyActivities<Activities>(profile);
  try {
    // Reads never wait on leases; a write holds the lease of every resource it touches for its whole execution.
    const execution =
      spec.kind === 'read'
        ? await executeTool(authorised)
        : await ctx.leases.with(spec.resources(args), call.step, { ...ctx.leaseOptions, local: ctx.local }, (leases) => executeTool({ ...authorised, leases }));
    // Done only with a success record: a key that already held a failure or denial is reported as that.
    if (execution.evidence.status === 'success') return { ...base, status: 'done', result: execution.result, evidence: execution.evidence };
    return { ...base, status: 'failed', detail: execution.evidence.detail ?? execution.evidence.status, evidence: execution.evidence };
  } catch (err) {
    const detail = failureDetail(err);
    const recorded = await recordToolOutcome({ ...authorised, status: 'failed', detail });
    // A success recorded by an attempt that outlived its timeout wins: the record under the key is the truth.
    if (recorded.evidence.status === 'success') return { ...base, status: 'done', result: recorded.result, evidence: recorded.evidence };
    return { ...base, status: 'failed', detail, evidence: recorded.evidence };
  }
}
