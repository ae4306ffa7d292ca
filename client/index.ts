import { Client, Connection, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ReviewRejection } from '../contracts/failures.js';
import { ApprovalDecision, ComplaintConfig, HumanResolution, parseComplaintEvent, type ComplaintConfigInput, type ComplaintResult, type ComplaintState } from '../examples/support/contracts/complaint.js';
import { HandoffInput, type AnalystResult, type HandoffState } from '../contracts/handoff.js';
import { complaintWorkflowId, eventId, handoffWorkflowId, triageWorkflowId } from '../contracts/ids.js';
import { issuesFrom, type ValidationIssue, formatIssues } from '../contracts/issues.js';
import { ProviderName, type ModelRef } from '../contracts/model.js';
import { parseTriggerEvent } from '../contracts/trigger.js';
import { ReviewDecision, TriageConfig, type TriageConfigInput, type TriageResult, type TriageState } from '../examples/support/contracts/triage.js';
import { supportTicketClassifier } from '../examples/support/prompts/support-ticket-classifier.js';
import { complaintDecider } from '../examples/support/prompts/complaint-escalation.js';
import {
  approvalUpdate,
  complaintStateQuery,
  handoffStateQuery,
  resolveUpdate,
  reviewUpdate,
  searchAttributes,
  stateQuery,
  TASK_QUEUE,
} from '../examples/support/definitions.js';

/** The input failed its contract; nothing was started. `issues` name each field and rule. */
export class InvalidInputError extends Error {
  constructor(
    readonly what: 'trigger' | 'config' | 'decision' | 'input',
    readonly issues: ValidationIssue[],
  ) {
    super(`invalid ${what}: ${formatIssues(issues)}`);
    this.name = 'InvalidInputError';
  }
}

export interface GovernorClientOptions {
  /** host:port of the Temporal frontend. Default `TEMPORAL_ADDRESS` or 127.0.0.1:7233. */
  readonly address?: string;
  /** Default `TEMPORAL_NAMESPACE` or "default". */
  readonly namespace?: string;
  readonly taskQueue?: string;
}

export interface StartResult {
  readonly workflowId: string;
  readonly runId: string | null;
  /** False when the event id was seen before: the existing run is returned and nothing new starts. */
  readonly started: boolean;
}

export type DecideResult =
  | { readonly status: 'accepted'; readonly action: ReviewDecision['action']; readonly reviewerId: string }
  | { readonly status: 'already_decided' | 'not_authorised' | 'not_awaiting_review' | 'invalid' | 'not_found'; readonly message: string };

/** What became of an update sent to a run (an approval, a resolution). */
export type UpdateResult<T> =
  | ({ readonly status: 'accepted' } & T)
  | { readonly status: 'already_decided' | 'not_authorised' | 'not_awaiting_review' | 'invalid' | 'not_found'; readonly message: string };

export interface PendingItem {
  readonly workflowId: string;
  /** `supportTicketTriage` (a classification to review) or `complaintEscalation` (an action to approve, or a human task). */
  readonly workflowType: string;
  /** What it waits for: the run's phase (`awaiting_review`, `awaiting_approval`, `awaiting_human`). */
  readonly phase: string | null;
  readonly runId: string;
  readonly category: string | null;
  readonly urgency: string | null;
  readonly startedAt: string;
}

/**
 * The model a run uses when the caller names none: `GOVERNOR_PROVIDER`/`GOVERNOR_MODEL`, else the provider whose key
 * is set (Anthropic first), else Anthropic. The prompt spec supplies the default model for the provider.
 */
export function defaultModel(env: NodeJS.ProcessEnv = process.env): ModelRef {
  const named = env.GOVERNOR_PROVIDER ? ProviderName.safeParse(env.GOVERNOR_PROVIDER) : undefined;
  if (named && !named.success) throw new Error(`GOVERNOR_PROVIDER must be one of ${ProviderName.options.join(', ')}`);
  const provider: ProviderName = named?.data ?? (env.ANTHROPIC_API_KEY ? 'anthropic' : env.OPENAI_API_KEY ? 'openai' : 'anthropic');
  return { provider, model: env.GOVERNOR_MODEL || supportTicketClassifier.models[provider] };
}

const REJECTION_STATUS: Record<string, Exclude<DecideResult['status'], 'accepted'>> = {
  [ReviewRejection.AlreadyDecided]: 'already_decided',
  [ReviewRejection.NotAuthorised]: 'not_authorised',
  [ReviewRejection.NotAwaitingReview]: 'not_awaiting_review',
  [ReviewRejection.InvalidDecision]: 'invalid',
};

/** Typed access to governed runs: start from a trigger event, decide reviews, read state. */
export class GovernorClient {
  private constructor(
    readonly client: Client,
    private readonly connection: Connection,
    readonly taskQueue: string,
  ) {}

  static async connect(options: GovernorClientOptions = {}): Promise<GovernorClient> {
    const address = options.address ?? process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
    const namespace = options.namespace ?? process.env.TEMPORAL_NAMESPACE ?? 'default';
    let connection: Connection;
    try {
      connection = await Connection.connect({ address, connectTimeout: 5_000 });
    } catch (err) {
      throw new Error(`cannot reach Temporal at ${address} (${(err as Error).message}); is the server running? (npm run demo or npm run server)`);
    }
    return new GovernorClient(new Client({ connection, namespace }), connection, options.taskQueue ?? TASK_QUEUE);
  }

  /**
   * Validates the trigger and the config, then starts the run whose id derives from `event_id`. A duplicate event
   * returns the existing run (running or finished) with `started: false`.
   */
  async startTriage(trigger: unknown, config: TriageConfigInput = {}): Promise<StartResult> {
    const parsed = parseTriggerEvent(trigger);
    if (!parsed.ok) throw new InvalidInputError('trigger', parsed.issues);
    const resolved = TriageConfig.safeParse({ model: defaultModel(), ...config });
    if (!resolved.success) throw new InvalidInputError('config', issuesFrom(resolved.error));
    return this.startOnce('supportTicketTriage', triageWorkflowId(eventId(parsed.event.event_id)), { event: parsed.event, config: resolved.data });
  }

  /** Sends a review decision and reports what became of it. Invalid decisions are refused before they are sent. */
  async decide(workflowId: string, decision: unknown): Promise<DecideResult> {
    const parsed = ReviewDecision.safeParse(decision);
    if (!parsed.success) return { status: 'invalid', message: formatIssues(issuesFrom(parsed.error)) };
    return this.sendUpdate(
      workflowId,
      () => this.client.workflow.getHandle(workflowId).executeUpdate(reviewUpdate, { args: [parsed.data] }),
      async () => {
        // A run that finished after someone else's decision: tell the reviewer who decided, not just "closed".
        const state = await this.getState(workflowId).catch(() => undefined);
        return state?.review
          ? { status: 'already_decided', message: `already decided (${state.review.action}) by ${state.review.reviewerId}` }
          : { status: 'not_awaiting_review', message: `run ${workflowId} has already completed (${state?.outcome ?? 'no review'})` };
      },
    );
  }

  /** True when a run with this id exists (open or closed). */
  async exists(workflowId: string): Promise<boolean> {
    try {
      await this.client.workflow.getHandle(workflowId).describe();
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  async getState(workflowId: string): Promise<TriageState> {
    return this.client.workflow.getHandle(workflowId).query(stateQuery);
  }

  async result(workflowId: string): Promise<TriageResult> {
    return this.client.workflow.getHandle(workflowId).result();
  }

  /**
   * Starts `complaintEscalation` for a `complaint.received` event; idempotent on the event id like `startTriage`.
   */
  async startComplaint(trigger: unknown, config: ComplaintConfigInput = {}): Promise<StartResult> {
    const parsed = parseComplaintEvent(trigger);
    if (!parsed.ok) throw new InvalidInputError('trigger', parsed.issues);
    const provider = defaultModel().provider;
    const resolved = ComplaintConfig.safeParse({ modelChain: [{ provider, model: process.env.GOVERNOR_MODEL || complaintDecider.models[provider] }], ...config });
    if (!resolved.success) throw new InvalidInputError('config', issuesFrom(resolved.error));
    return this.startOnce('complaintEscalation', complaintWorkflowId(eventId(parsed.event.event_id)), { event: parsed.event, config: resolved.data });
  }

  /** Starts the research → analyst handoff for one category of triaged tickets. */
  async startHandoff(input: unknown): Promise<StartResult> {
    const parsed = HandoffInput.safeParse(input);
    if (!parsed.success) throw new InvalidInputError('input', issuesFrom(parsed.error));
    return this.startOnce('agentHandoff', handoffWorkflowId(parsed.data.taskId), parsed.data);
  }

  /** Starts a run whose id derives from its trigger; any earlier run with the id, open or closed, is returned instead. */
  private async startOnce(type: string, workflowId: string, arg: unknown): Promise<StartResult> {
    try {
      const handle = await this.client.workflow.start(type, {
        taskQueue: this.taskQueue,
        workflowId,
        args: [arg],
        // Any earlier run with this id, open or closed, means the event was already handled.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'FAIL',
        typedSearchAttributes: [
          { key: searchAttributes.phase, value: 'received' },
          { key: searchAttributes.awaitingReview, value: false },
        ],
      });
      return { workflowId, runId: handle.firstExecutionRunId, started: true };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        const description = await this.client.workflow.getHandle(workflowId).describe();
        return { workflowId, runId: description.runId, started: false };
      }
      throw err;
    }
  }

  /** Approves or rejects an action a complaint run holds for a human. */
  async approveAction(workflowId: string, decision: unknown): Promise<UpdateResult<{ stepId: string; approved: boolean; reviewerId: string }>> {
    const parsed = ApprovalDecision.safeParse(decision);
    if (!parsed.success) return { status: 'invalid', message: formatIssues(issuesFrom(parsed.error)) };
    return this.sendUpdate(workflowId, () => this.client.workflow.getHandle(workflowId).executeUpdate(approvalUpdate, { args: [parsed.data] }));
  }

  /** Closes what a complaint run escalated to a human (a denied action, a failed tool, an unreviewable decision). */
  async resolve(workflowId: string, resolution: unknown): Promise<UpdateResult<{ reviewerId: string }>> {
    const parsed = HumanResolution.safeParse(resolution);
    if (!parsed.success) return { status: 'invalid', message: formatIssues(issuesFrom(parsed.error)) };
    return this.sendUpdate(
      workflowId,
      () => this.client.workflow.getHandle(workflowId).executeUpdate(resolveUpdate, { args: [parsed.data] }),
      async () => {
        // A run that closed after someone else resolved it: say who, not just "completed".
        const state = await this.complaintState(workflowId).catch(() => undefined);
        return state?.resolution
          ? { status: 'already_decided', message: `already resolved by ${state.resolution.reviewerId}` }
          : { status: 'not_awaiting_review', message: `run ${workflowId} has completed` };
      },
    );
  }

  /**
   * Sends an update and maps every refusal to a typed answer. A run that closed (before or while the update was in
   * flight) is answered by `onClosed`, from the run's final state.
   */
  private async sendUpdate<T>(
    workflowId: string,
    send: () => Promise<{ status: 'accepted' } & T>,
    onClosed: () => Promise<UpdateResult<T>> = async () => ({ status: 'not_awaiting_review', message: `run ${workflowId} has completed` }),
  ): Promise<UpdateResult<T>> {
    try {
      return await send();
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
        const status = REJECTION_STATUS[err.cause.type ?? ''];
        if (status) return { status, message: err.cause.message };
      }
      if (err instanceof WorkflowNotFoundError && !(await this.exists(workflowId))) return { status: 'not_found', message: `no run ${workflowId}` };
      if (isClosedRunError(err) || err instanceof WorkflowNotFoundError || err instanceof WorkflowUpdateFailedError) return onClosed();
      throw err;
    }
  }

  async complaintState(workflowId: string): Promise<ComplaintState> {
    return this.client.workflow.getHandle(workflowId).query(complaintStateQuery);
  }

  async complaintResult(workflowId: string): Promise<ComplaintResult> {
    return this.client.workflow.getHandle(workflowId).result();
  }

  async handoffState(workflowId: string): Promise<HandoffState> {
    return this.client.workflow.getHandle(workflowId).query(handoffStateQuery);
  }

  async handoffResult(workflowId: string): Promise<AnalystResult> {
    return this.client.workflow.getHandle(workflowId).result();
  }

  /** Runs waiting for a person (triage reviews, complaint approvals and human tasks), from the visibility store (eventually consistent: a second or so behind). */
  async listPending(limit = 100): Promise<PendingItem[]> {
    const items: PendingItem[] = [];
    const query = `WorkflowType IN ('supportTicketTriage', 'complaintEscalation') AND ExecutionStatus = 'Running' AND ${searchAttributes.awaitingReview.name} = true`;
    for await (const wf of this.client.workflow.list({ query })) {
      items.push({
        workflowId: wf.workflowId,
        workflowType: wf.type,
        phase: wf.typedSearchAttributes.get(searchAttributes.phase) ?? null,
        runId: wf.runId,
        category: wf.typedSearchAttributes.get(searchAttributes.category) ?? null,
        urgency: wf.typedSearchAttributes.get(searchAttributes.urgency) ?? null,
        startedAt: wf.startTime.toISOString(),
      });
      if (items.length >= limit) break;
    }
    return items;
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}

function isClosedRunError(err: unknown): boolean {
  return err instanceof Error && /workflow execution already completed/i.test(err.message);
}
