import { Client, Connection, isGrpcServiceError, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type ClientPlugin } from '@temporalio/client';
import { ApplicationFailure, type Payload, type PayloadCodec } from '@temporalio/common';
import { encryptedDataConverter } from '../activities/payload-codec.js';
import { temporalConnectionConfig } from '../activities/temporal-connection.js';
import { ReviewRejection } from '../contracts/failures.js';
import { formatIssues, issuesFrom, type ValidationIssue } from '../contracts/issues.js';
import { decisionPayloadIssues, parseContract } from '../contracts/trigger.js';
import type { UpdateDefinition } from '@temporalio/common';
import type { AnyWorkflowDescriptor, ModelChoice, RunDetail, WaitingDecision, WorkflowDescriptor } from '../workflows/descriptor.js';
import { ProviderName } from '../contracts/model.js';
import { governorSearchAttributes } from '../workflows/search-attributes.js';
import { DEFAULT_TASK_QUEUE } from '../contracts/ids.js';

/** The input failed its contract; nothing was started. `issues` name each field and rule. */
export class InvalidInputError extends Error {
  constructor(
    readonly what: 'trigger' | 'config' | 'decision' | 'input' | 'workflow',
    readonly issues: ValidationIssue[],
  ) {
    super(`invalid ${what}: ${formatIssues(issues)}`);
    this.name = 'InvalidInputError';
  }
}

/** Temporal could not be reached: nothing was started or sent. */
export class TemporalUnreachableError extends Error {
  constructor(readonly address: string, cause: Error) {
    super(`cannot reach Temporal at ${address} (${cause.message}); is the server running? (npm run demo or npm run server)`);
    this.name = 'TemporalUnreachableError';
  }
}

export interface GovernorClientOptions {
  /** host:port of the Temporal frontend. Default: Temporal's environment configuration (see `temporalConnectionConfig`), else 127.0.0.1:7233. */
  readonly address?: string;
  /** Default: the configuration's namespace, else "default". */
  readonly namespace?: string;
  /** A profile of Temporal's config file (default `TEMPORAL_PROFILE`, else `default`). */
  readonly profile?: string;
  /** Default `governor`. */
  readonly taskQueue?: string;
  /** The workflows this client starts and lists, by descriptor. */
  readonly workflows: readonly AnyWorkflowDescriptor[];
  /** The codec the workers encrypt payloads with (`AesGcmPayloadCodec`); the client then reads and writes them too. */
  readonly codec?: PayloadCodec;
  /** The workers' claim-check codec (`ClaimCheckCodec` on the same store), to read payloads they keep out of history. */
  readonly claimCheck?: PayloadCodec;
  /** OpenTelemetry tracing (`createTracing` from `governor/worker`): starts and decisions become the root spans of a run's trace. */
  readonly tracing?: { readonly plugin: ClientPlugin };
}

export interface StartResult {
  readonly workflowId: string;
  readonly runId: string | null;
  /** False when the event id was seen before: the existing run is returned and nothing new starts. */
  readonly started: boolean;
}

export type RefusalStatus = 'already_decided' | 'not_authorised' | 'not_awaiting_review' | 'invalid' | 'not_found';

/** What became of a decision sent to a run. */
export type UpdateResult<T> = ({ readonly status: 'accepted' } & T) | { readonly status: RefusalStatus; readonly message: string };

export interface PendingItem {
  readonly workflowId: string;
  readonly workflowType: string;
  /** What it waits for: the run's phase (`awaiting_review`, `awaiting_approval`, `awaiting_human`). */
  readonly phase: string | null;
  readonly runId: string;
  /** The descriptor's extra search attributes (a category, an urgency), by name. */
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly startedAt: string;
}

/** One decision waiting for a person, with its run: what the review queue lists. */
export interface WaitingEntry extends PendingItem {
  /** Null for a workflow without a review view: the run waits, the console can only link to it. */
  readonly decision: WaitingDecision | null;
  readonly detail: RunDetail | null;
}

/** The gate's refusal types, mapped to the answer a person sees; by failure type, never by message text. */
const REFUSAL_STATUS: Record<string, Exclude<RefusalStatus, 'not_found'>> = {
  [ReviewRejection.AlreadyDecided]: 'already_decided',
  [ReviewRejection.NotAuthorised]: 'not_authorised',
  [ReviewRejection.NotAwaitingReview]: 'not_awaiting_review',
  [ReviewRejection.InvalidDecision]: 'invalid',
};

/** Typed access to governed runs, driven by workflow descriptors: start from a trigger event, decide, read state. */
export class GovernorClient {
  private readonly byName: ReadonlyMap<string, AnyWorkflowDescriptor>;

  protected constructor(
    readonly client: Client,
    private readonly connection: Connection,
    readonly taskQueue: string,
    readonly workflows: readonly AnyWorkflowDescriptor[],
  ) {
    this.byName = new Map(workflows.map((w) => [w.name, w]));
  }

  static async connect(options: GovernorClientOptions): Promise<GovernorClient> {
    const { client, connection } = await connectTemporal(options);
    return new GovernorClient(client, connection, options.taskQueue ?? DEFAULT_TASK_QUEUE, options.workflows);
  }

  /** The descriptor of a workflow by name; an unknown name is an error listing the known ones. */
  descriptor(name: string): AnyWorkflowDescriptor {
    const found = this.byName.get(name);
    if (!found) throw new InvalidInputError('workflow', [{ field: 'workflow', rule: `unknown workflow ${JSON.stringify(name)}; known: ${[...this.byName.keys()].join(', ')}` }]);
    return found;
  }

  /**
   * Validates the trigger and the config, then starts the run whose id derives from the event. A duplicate event
   * returns the existing run (running or finished) with `started: false`.
   */
  async start<T, C>(
    workflow: WorkflowDescriptor<T, C, unknown, unknown> | string,
    trigger: unknown,
    config: Record<string, unknown> = {},
    options: { readonly model?: ModelChoice } = {},
  ): Promise<StartResult> {
    const d = typeof workflow === 'string' ? this.descriptor(workflow) : workflow;
    return this.startPrepared(prepareStart(d, trigger, config, options.model));
  }

  /** Starts what `prepareStart` validated (the CLI validates before it connects). */
  async startPrepared(prepared: PreparedStart): Promise<StartResult> {
    return this.startOnce(prepared.workflowType, prepared.workflowId, prepared.input, prepared.priority);
  }

  /** Starts a run whose id derives from its trigger; any earlier run with the id, open or closed, is returned instead. */
  protected async startOnce(type: string, workflowId: string, arg: unknown, priority?: number): Promise<StartResult> {
    try {
      const handle = await this.client.workflow.start(type, {
        taskQueue: this.taskQueue,
        workflowId,
        args: [arg],
        // Any earlier run with this id, open or closed, means the event was already handled.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'FAIL',
        // The run's place in a backlog (its activities inherit it): the descriptor's priority, else the default.
        ...(priority ? { priority: { priorityKey: priority } } : {}),
        typedSearchAttributes: [
          { key: governorSearchAttributes.phase, value: 'received' },
          { key: governorSearchAttributes.awaitingReview, value: false },
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

  /** The run's `state` query (every governed workflow answers one), whatever its type. */
  async state<S = unknown>(workflowId: string): Promise<S> {
    return this.client.workflow.getHandle(workflowId).query<S>('state');
  }

  async result<R = unknown>(workflowId: string): Promise<R> {
    return this.client.workflow.getHandle(workflowId).result() as Promise<R>;
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

  /** The workflow type of a run, from the server (no routing on the id's shape). */
  async typeOf(workflowId: string): Promise<string> {
    return (await this.client.workflow.getHandle(workflowId).describe()).type;
  }

  /**
   * Sends one of the run's decisions (by the verb its descriptor names, e.g. `review`) and reports what became of it.
   * An invalid payload is refused before it is sent.
   */
  async decide<T = Record<string, unknown>>(workflowId: string, verb: string, payload: unknown): Promise<UpdateResult<T>> {
    let type: string;
    try {
      type = await this.typeOf(workflowId);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return { status: 'not_found', message: `no run ${workflowId}` };
      throw err;
    }
    const decision = this.byName.get(type)?.decisions[verb];
    if (!decision) return { status: 'invalid', message: `${type} runs take no ${verb} decision` };
    // Before the contract: a payload JSON cannot carry, or one past the cap, would fail in transport, not as an answer.
    const unsendable = decisionPayloadIssues(payload);
    if (unsendable.length > 0) return { status: 'invalid', message: formatIssues(unsendable) };
    const parsed = decision.schema.safeParse(payload);
    if (!parsed.success) return { status: 'invalid', message: formatIssues(issuesFrom(parsed.error)) };
    const closed = async (): Promise<UpdateResult<T>> => {
      // A run that finished after someone else's decision: tell the person who decided, not just "closed".
      const state = decision.decidedIn ? await this.state(workflowId).catch(() => undefined) : undefined;
      const by = state === undefined ? null : decision.decidedIn!(state as never);
      return by ? { status: 'already_decided', message: by } : { status: 'not_awaiting_review', message: `run ${workflowId} has completed` };
    };
    return this.sendUpdate(workflowId, decision.update as UpdateDefinition<{ status: 'accepted' } & T, [unknown]>, parsed.data, closed);
  }

  /**
   * Sends an update and maps every refusal to a typed answer, by failure type. A run that closed (before or while the
   * update was in flight) is answered by `onClosed`, from the run's final state.
   */
  protected async sendUpdate<T>(
    workflowId: string,
    update: UpdateDefinition<{ status: 'accepted' } & T, [unknown]>,
    payload: unknown,
    onClosed: () => Promise<UpdateResult<T>>,
  ): Promise<UpdateResult<T>> {
    try {
      return await this.client.workflow.getHandle(workflowId).executeUpdate(update, { args: [payload] });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
        const status = REFUSAL_STATUS[err.cause.type ?? ''];
        if (status) return { status, message: err.cause.message };
      }
      if (err instanceof WorkflowNotFoundError) {
        return (await this.exists(workflowId)) ? onClosed() : { status: 'not_found', message: `no run ${workflowId}` };
      }
      // An update to a closed run fails with a gRPC NOT_FOUND / FAILED_PRECONDITION status, not a typed error.
      if (isClosedRunError(err) || err instanceof WorkflowUpdateFailedError) return onClosed();
      throw err;
    }
  }

  /**
   * Runs waiting for a person, across every described workflow, from the visibility store (eventually consistent: a
   * second or so behind). Bounded by `limit`.
   */
  async listPending(limit = 100): Promise<PendingItem[]> {
    const items: PendingItem[] = [];
    // Without descriptors (a generic CLI), every run that says it waits for a person is listed.
    const types = this.workflows.map((w) => `'${w.name.replace(/'/g, "''")}'`).join(', ');
    const ofType = types ? `WorkflowType IN (${types}) AND ` : '';
    const query = `${ofType}ExecutionStatus = 'Running' AND ${governorSearchAttributes.awaitingReview.name} = true`;
    for await (const wf of this.client.workflow.list({ query })) {
      const extra = this.byName.get(wf.type)?.searchAttributes ?? [];
      items.push({
        workflowId: wf.workflowId,
        workflowType: wf.type,
        phase: wf.typedSearchAttributes.get(governorSearchAttributes.phase) ?? null,
        runId: wf.runId,
        attributes: Object.fromEntries(extra.map((key) => [key.name, wf.typedSearchAttributes.get(key) ?? null])),
        startedAt: wf.startTime.toISOString(),
      });
      if (items.length >= limit) break;
    }
    return items;
  }

  /**
   * Everything waiting for a person, one entry per decision (a run holding two actions gives two), with the run's
   * labels, deadline and choices from its descriptor's review view; soonest deadline first. Runs whose workflow has
   * no review view are listed with their phase only. A run that closed between the listing and its query is skipped.
   */
  async listWaiting(limit = 200): Promise<WaitingEntry[]> {
    const pending = await this.listPending(limit);
    const entries = await Promise.all(
      pending.map(async (item): Promise<WaitingEntry[]> => {
        const view = this.byName.get(item.workflowType)?.review;
        if (!view) return [{ ...item, decision: null, detail: null }];
        const state = await this.state(item.workflowId).catch(() => undefined);
        if (state === undefined) return [];
        const detail = view.detail(state as never);
        return view.waiting(state as never).map((decision) => ({ ...item, decision, detail }));
      }),
    );
    const due = (e: WaitingEntry) => (e.decision ? Date.parse(e.decision.deadline) : Number.POSITIVE_INFINITY);
    return entries.flat().sort((a, b) => due(a) - due(b) || a.startedAt.localeCompare(b.startedAt));
  }

  /**
   * The argument a run was started with, read from its history and decoded as the client decodes any payload (the
   * payload keys too, when they are set): what a re-run starts from.
   */
  async inputOf<T = unknown>(workflowId: string, runId?: string): Promise<T> {
    // Only the first event holds the argument: one page of one event, not the whole history (a long run's is large).
    const { history } = await this.client.workflowService.getWorkflowExecutionHistory({
      namespace: this.client.options.namespace,
      execution: { workflowId, ...(runId ? { runId } : {}) },
      maximumPageSize: 1,
    });
    let payloads = (history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? []) as Payload[];
    const converter = this.client.options.loadedDataConverter;
    for (const codec of [...converter.payloadCodecs].reverse()) payloads = await codec.decode(payloads);
    if (!payloads[0]) throw new Error(`${workflowId} was started without an argument`);
    return converter.payloadConverter.fromPayload<T>(payloads[0]);
  }

  /**
   * Runs that ended in a terminal failure (failed or timed out), newest first: the dead-letter list. Each carries the
   * failure's message, so the list says why without opening the run. Bounded by `limit`.
   */
  async listDeadLetter(limit = 100): Promise<DeadLetterItem[]> {
    const types = this.workflows.map((w) => `'${w.name.replace(/'/g, "''")}'`).join(', ');
    const query = `${types ? `WorkflowType IN (${types}) AND ` : ''}(ExecutionStatus = 'Failed' OR ExecutionStatus = 'TimedOut')`;
    const items: DeadLetterItem[] = [];
    for await (const wf of this.client.workflow.list({ query })) {
      const why = await this.client.workflow
        .getHandle(wf.workflowId, wf.runId)
        .result()
        .then(
          () => '',
          (err: Error & { cause?: Error }) => err.cause?.message ?? err.message,
        );
      items.push({ workflowId: wf.workflowId, runId: wf.runId, workflowType: wf.type, status: wf.status.name, closedAt: wf.closeTime?.toISOString() ?? null, reason: why, rerunOf: (wf.memo?.rerunOf as string | undefined) ?? null });
      if (items.length >= limit) break;
    }
    return items;
  }

  /**
   * Starts a run again with the argument the original was started with, as a new run linked to it (its id is the
   * original's with `/rerun-<time>`, and its memo names the original): after a fix, a dead-lettered run in one
   * command. The original is left as it is.
   */
  async rerun(workflowId: string): Promise<StartResult & { rerunOf: string }> {
    const original = await this.client.workflow.getHandle(workflowId).describe();
    const input = await this.inputOf(workflowId, original.runId);
    const id = `${workflowId}/rerun-${Date.now().toString(36)}`;
    const handle = await this.client.workflow.start(original.type, { workflowId: id, taskQueue: original.taskQueue, args: [input], memo: { rerunOf: workflowId } });
    return { workflowId: id, runId: handle.firstExecutionRunId, started: true, rerunOf: workflowId };
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}

export interface DeadLetterItem {
  readonly workflowId: string;
  readonly runId: string;
  readonly workflowType: string;
  readonly status: string;
  readonly closedAt: string | null;
  readonly reason: string;
  /** The run this one re-ran, when it is a re-run. */
  readonly rerunOf: string | null;
}

/** A run ready to start: validated trigger and config, the id derived from the event, the workflow's argument. */
export interface PreparedStart {
  readonly workflowType: string;
  readonly workflowId: string;
  readonly input: unknown;
  /** The descriptor's task-queue priority (1 first … 5 last), when it sets one. */
  readonly priority?: number;
}

/**
 * Validates a trigger and a config against a descriptor and builds the run's argument, contacting nothing: a bad
 * event or setting is refused (`InvalidInputError`, naming each field and rule) before any connection is made.
 * Settings the caller leaves out come from the descriptor's `defaultConfig` for the model choice (default: from the
 * environment, `modelChoiceFromEnv`).
 */
export function prepareStart<T, C>(
  d: WorkflowDescriptor<T, C, unknown, unknown>,
  trigger: unknown,
  config: Record<string, unknown> = {},
  model?: ModelChoice,
): PreparedStart {
  const event = validateTrigger(d, trigger);
  let defaults: Record<string, unknown> = {};
  if (d.defaultConfig) {
    try {
      defaults = d.defaultConfig(model ?? modelChoiceFromEnv());
    } catch (err) {
      if (err instanceof InvalidInputError) throw err;
      throw new InvalidInputError('config', [{ field: 'model', rule: (err as Error).message }]);
    }
  }
  const resolved = d.config.safeParse({ ...defaults, ...config });
  if (!resolved.success) throw new InvalidInputError('config', issuesFrom(resolved.error));
  return { workflowType: d.name, workflowId: d.workflowId(event), input: d.input(event, resolved.data), ...(d.priority ? { priority: d.priority } : {}) };
}

/**
 * The deployment's model choice from the environment: `GOVERNOR_PROVIDER` (checked: a bad name is an input error)
 * and `GOVERNOR_MODEL`; without them the provider whose key is set (Anthropic first), else Anthropic.
 */
export function modelChoiceFromEnv(env: NodeJS.ProcessEnv = process.env): ModelChoice {
  let provider: string = env.ANTHROPIC_API_KEY ? 'anthropic' : env.OPENAI_API_KEY ? 'openai' : 'anthropic';
  if (env.GOVERNOR_PROVIDER) {
    const named = ProviderName.safeParse(env.GOVERNOR_PROVIDER);
    if (!named.success) throw new InvalidInputError('config', [{ field: 'GOVERNOR_PROVIDER', rule: named.error.issues[0]?.message ?? 'not a provider name' }]);
    provider = named.data;
  }
  return { provider, model: env.GOVERNOR_MODEL || null };
}

/** Validates a trigger against a descriptor's contract without contacting anything: the CLI's first step. */
export function validateTrigger<T>(d: WorkflowDescriptor<T, unknown, unknown, unknown>, trigger: unknown): T {
  const parsed = parseContract(d.trigger.schema, d.trigger.eventType, trigger);
  if (!parsed.ok) throw new InvalidInputError('trigger', parsed.issues);
  return parsed.event;
}

export async function connectTemporal(options: {
  address?: string;
  namespace?: string;
  profile?: string;
  codec?: PayloadCodec;
  claimCheck?: PayloadCodec;
  tracing?: { readonly plugin: ClientPlugin };
}): Promise<{ client: Client; connection: Connection }> {
  // Temporal's own configuration (profile file, TEMPORAL_* variables: TLS, mTLS, API key), explicit options first.
  const config = temporalConnectionConfig({ address: options.address, namespace: options.namespace, profile: options.profile });
  let connection: Connection;
  try {
    connection = await Connection.connect({
      address: config.address,
      connectTimeout: 5_000,
      ...(config.tls !== undefined ? { tls: config.tls } : {}),
      ...(config.apiKey ? { apiKey: config.apiKey } : {}),
      ...(config.metadata ? { metadata: config.metadata } : {}),
    });
  } catch (err) {
    throw new TemporalUnreachableError(config.address, err as Error);
  }
  return {
    client: new Client({
      connection,
      namespace: config.namespace,
      ...(options.codec || options.claimCheck ? { dataConverter: encryptedDataConverter(options.codec, options.claimCheck) } : {}),
      ...(options.tracing ? { plugins: [options.tracing.plugin] } : {}),
    }),
    connection,
  };
}

/** gRPC NOT_FOUND and FAILED_PRECONDITION: what the server answers an update to a run that has closed. */
const CLOSED_RUN_CODES: ReadonlySet<number> = new Set([5, 9]);

/** By the gRPC status code, never by message text. */
function isClosedRunError(err: unknown): boolean {
  return isGrpcServiceError(err) && CLOSED_RUN_CODES.has(err.code);
}
