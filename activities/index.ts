import { Context } from '@temporalio/activity';
import { ApplicationFailure, type Client } from '@temporalio/client';
import { digestOf, type EvidenceOf, type EvidenceRecord, type EvidenceView, type PermissionOutcome, type ToolExecution } from '../contracts/evidence.js';
import { FailureType, retryableFailure, terminalFailure } from '../contracts/failures.js';
import type { HandoffExpectation, HandoffVerdict } from '../contracts/handoff.js';
import { formatIssues } from '../contracts/issues.js';
import { withoutRedundantText, type ModelCallInput, type ModelCallRequest, type ModelCallResult, type ModelRef } from '../contracts/model.js';
import { evaluatePolicy, type PermissionDecision, type Policy } from '../contracts/policy.js';
import { checkToolCall, factsOf, type ToolRegistry } from '../contracts/tools.js';
import { leaseAcquireSignal, leaseWorkflowId, resourceLeaseWorkflowName, type LeaseRequest } from '../contracts/lease.js';
import { BreakerRegistry } from './breakers.js';
import { readControls } from './controls.js';
import { PromptRegistryError, registeredPrompts, resolveRun } from './prompt-registry.js';
import { queueForGrading, recordReview, ReviewInputInvalid } from './reviews.js';
import type { PinnedRun } from '../contracts/prompts.js';
import type { WorkflowControls } from '../contracts/controls.js';
import type { CorrectionVerdict, GradeVerdict, ReviewRecord } from '../contracts/review.js';
import { evidenceForWorkflow, executeOnce, recordOutcome, type ToolCall } from './evidence.js';
import { verifyHandoff } from './handoff.js';
import { callModel, type Providers } from './providers/registry.js';
import { annotate, annotateModelContent, evidenceAttributes, inSpan } from './spans.js';
import { isConnectionLoss } from './sql.js';
import { canonicalJson, sha256, type Store } from './store.js';
import { runImplementation, type AnyToolImplementation, type ToolImplementation } from './tools.js';
import { countTokens, type TokenCount, type TokenCountRequest } from './tokens.js';
import { admitModelCall, recordSpend, type SpendLimits } from './spend.js';
import { Budgets, costOf } from '../contracts/budget.js';

export interface ActivityDeps {
  readonly providers: Providers;
  readonly store: Store;
  /** Shared by every workflow on the worker; one is made when omitted. */
  readonly breakers?: BreakerRegistry;
  /** The tools this worker executes: declarations with their implementations (`implementTool`). */
  readonly tools: readonly AnyToolImplementation[];
  /** The permission policy: deny by default, so a worker without one refuses every tool call. */
  readonly policy: Policy;
  /** A client of the worker's Temporal namespace: resource leases are signal-with-start from an activity. */
  readonly temporal?: Client;
  /**
   * Test hooks: `beforeEffect` runs before a tool's transaction (inside its recorded start..finish, as a slow external
   * call would); `afterEffect` after the effect and its evidence committed, before the activity returns.
   */
  readonly hooks?: { readonly beforeEffect?: (tool: string) => Promise<void>; readonly afterEffect?: (evidence: EvidenceRecord) => void };
  /** Limits every worker on the store shares: a daily spend ceiling and per-provider token rates (`spendLimits`). */
  readonly spend?: SpendLimits;
}

/** A tool call as a workflow asks for it; the activity adds the run id and checks everything again. */
export interface ToolRequest {
  readonly tool: string;
  readonly action: string;
  readonly actor: string;
  readonly args: unknown;
  readonly workflowId: string;
  readonly stepId: string;
  readonly idempotencyKey: string;
  /** Set by the workflow after a human approved the call (`approved`, with the approver). */
  readonly permission?: { readonly outcome: PermissionOutcome; readonly approver: string | null; readonly policyVersion?: string; readonly rule?: string };
  /** Fencing tokens of the leases the workflow holds on the resources it writes. */
  readonly leases?: Readonly<Record<string, number>>;
  /**
   * What the call returns into history: the whole evidence record (the default) or its digest. The store keeps the
   * whole record either way; a workflow that reads only the digest's fields keeps its history smaller by asking for it.
   */
  readonly evidence?: EvidenceView;
}

/**
 * The calling workflow, from Temporal rather than from the request: a tool call names its own workflow and the key
 * `workflowId/stepId`, so no run can write into another's evidence chain or borrow its idempotency key.
 */
function caller(req: ToolRequest): { workflowId: string; workflowType: string } {
  const info = Context.current().info;
  const workflowId = info.workflowExecution?.workflowId;
  const refuse = (why: string) => ApplicationFailure.create({ type: FailureType.PermissionDenied, nonRetryable: true, message: why });
  if (!workflowId) throw refuse('tool calls are made by workflows; this activity has no workflow');
  if (req.workflowId !== workflowId) throw refuse(`workflowId ${req.workflowId} is not the calling workflow ${workflowId}`);
  if (req.idempotencyKey !== `${workflowId}/${req.stepId}`) throw refuse(`idempotencyKey must be ${workflowId}/${req.stepId}, not ${req.idempotencyKey}`);
  return { workflowId, workflowType: info.workflowType ?? '' };
}

function toolCall(req: ToolRequest, resources: string[]): ToolCall {
  return {
    tool: req.tool,
    action: req.action,
    actor: req.actor,
    workflowId: req.workflowId,
    runId: runId(),
    stepId: req.stepId,
    idempotencyKey: req.idempotencyKey,
    args: req.args,
    resources,
    permission: {
      outcome: req.permission?.outcome ?? 'denied',
      policyVersion: req.permission?.policyVersion ?? '',
      rule: req.permission?.rule ?? '',
      approver: req.permission?.approver ?? null,
    },
    leases: req.leases,
  };
}

/** The response cache key: the prompt version, the model and the exact input, hashed. */
function cacheKey(req: ModelCallRequest): string {
  return sha256(canonicalJson({ prompt: req.prompt, model: req.model, system: req.system, messages: req.messages, output: req.output }));
}

/** The calling workflow run, from Temporal: review rows are always about the run that writes them. */
function callingRun(): { workflowId: string; runId: string; workflowType: string } {
  const info = Context.current().info;
  const workflowId = info.workflowExecution?.workflowId;
  if (!workflowId) throw ApplicationFailure.create({ type: FailureType.PermissionDenied, nonRetryable: true, message: 'review rows are written by workflows; this activity has no workflow' });
  return { workflowId, runId: info.workflowExecution?.runId ?? 'standalone', workflowType: info.workflowType ?? '' };
}

/** A review row that breaks the store's rules is the workflow's mistake: no retry makes it valid. */
async function terminalOnBadInput<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ReviewInputInvalid) throw ApplicationFailure.create({ type: FailureType.InvalidConfig, nonRetryable: true, message: err.message });
    throw err;
  }
}

function runId(): string {
  // Activities started by a workflow always carry its execution; standalone activity runs have none.
  return Context.current().info.workflowExecution?.runId ?? 'standalone';
}

/**
 * Activities take their dependencies from the worker that wires them; workflows see only their types.
 */
export function createActivities(deps: ActivityDeps) {
  const { providers, store, spend } = deps;
  // The prices the day's spend is counted at: the adapters' own, else the list prices (resolved once, not per call).
  const spendPrices = Budgets.parse({ prices: { ...providers.prices } });
  const breakers = deps.breakers ?? new BreakerRegistry();
  const policy = deps.policy;
  const implementations = new Map<string, ToolImplementation>();
  for (const tool of deps.tools) {
    if (implementations.has(tool.spec.name)) throw new Error(`two tool implementations are named ${JSON.stringify(tool.spec.name)}`);
    implementations.set(tool.spec.name, tool as ToolImplementation);
  }
  const registry: ToolRegistry = Object.fromEntries([...implementations].map(([name, tool]) => [name, tool.spec]));
  const prompts = registeredPrompts(store);
  /** A prompt the registry does not hold as pinned fails the call for good: the step moves down its chain. */
  const pinnedOnly = async <T>(read: () => Promise<T>): Promise<T> => {
    try {
      return await read();
    } catch (err) {
      if (err instanceof PromptRegistryError) throw terminalFailure(FailureType.InvalidConfig, err.message);
      throw err;
    }
  };
  const fullRequest = (req: ModelCallInput): Promise<ModelCallRequest> => pinnedOnly(() => prompts.call(req));
  /**
   * Cache writes a model call left running after it answered, by key: a read of the key on this worker waits for
   * them, so it sees what was written (another worker may read the row a moment before it lands, as with any cache).
   */
  const writing = new Map<string, Promise<void>>();
  const cacheRow = async (key: string): Promise<{ value: unknown; cachedAt: string } | null> => {
    await writing.get(key);
    const row = await store.db.query<{ value: unknown; created_at: Date }>('select value, created_at from model_cache where key = $1', [key]);
    const hit = row.rows[0];
    return hit ? { value: hit.value, cachedAt: new Date(hit.created_at).toISOString() } : null;
  };
  const cached = (req: ModelCallRequest) => cacheRow(cacheKey(req));
  /**
   * The latest answer for the key wins (a repaired answer replaces the first one the call cached): writes of one key
   * land in the order they were made, each after the one before it, failed or not.
   */
  const cacheWrite = (req: ModelCallRequest, value: unknown): Promise<void> => {
    const key = cacheKey(req);
    const before = writing.get(key);
    const write = (async () => {
      await before;
      await store.db.query(
        `insert into model_cache (key, prompt_name, prompt_version, model, value) values ($1, $2, $3, $4, $5)
         on conflict (key) do update set value = excluded.value, created_at = now()`,
        [key, req.prompt.name, req.prompt.version, req.model.model, JSON.stringify(value)],
      );
    })();
    const settled = write.catch(() => undefined);
    writing.set(key, settled);
    void settled.then(() => {
      if (writing.get(key) === settled) writing.delete(key);
    });
    return write;
  };
  /**
   * A model call caches its answer after answering: the write is off the run's path, and a write that fails (the
   * store gone for a moment) is logged and costs nothing more — failing the activity would pay for the call again.
   */
  const cacheWriteBehind = (req: ModelCallRequest, value: unknown): void => {
    const log = Context.current().log;
    cacheWrite(req, value).catch((err: Error) => log.warn('model cache write failed; the answer stands uncached', { prompt: req.prompt.name, model: req.model.model, error: err.message }));
  };

  /**
   * The one path every tool call takes: arguments validated against the registry, the policy checked again here
   * (a workflow cannot talk the tool layer past it), then effect + evidence in one transaction, behind the tool's
   * circuit breaker.
   */
  const runTool = async (req: ToolRequest): Promise<ToolExecution> => {
    const { workflowType } = caller(req);
    const checked = checkToolCall(registry, req.tool, req.args);
    if (!checked.ok) {
      throw ApplicationFailure.create({
        type: checked.unknownTool ? FailureType.UnknownTool : FailureType.ToolArgumentsInvalid,
        nonRetryable: true,
        message: `${req.tool}: ${formatIssues(checked.issues)}`,
      });
    }
    const { spec, args } = checked;
    const permission = evaluatePolicy(policy, req.actor, factsOf(spec), req.tool, workflowType);
    annotate({ 'governor.permission.decision': permission.decision, 'governor.permission.rule': permission.rule, 'governor.permission.policy_version': permission.policyVersion });
    const approver = req.permission?.outcome === 'approved' ? req.permission.approver : null;
    // An approval counts only from someone the policy names as an approver, whatever the workflow says.
    const approvedByHuman = approver !== null && permission.approvers.includes(approver);
    if (permission.decision === 'deny' || (permission.decision === 'require_approval' && !approvedByHuman)) {
      throw ApplicationFailure.create({
        type: FailureType.PermissionDenied,
        nonRetryable: true,
        message: `${req.actor} may not run ${req.tool} (${permission.rule}): ${
          permission.decision === 'deny' ? permission.reason : approver ? `${approver} is not an approver under policy ${permission.policyVersion}` : 'no recorded approval'
        }`,
      });
    }
    const call = toolCall(
      { ...req, permission: { outcome: approvedByHuman ? 'approved' : 'granted', policyVersion: permission.policyVersion, rule: permission.rule, approver: approvedByHuman ? approver : null } },
      spec.resources(args),
    );
    const implementation = implementations.get(spec.name)!;
    const startedAt = new Date();
    const execution = await breakers.execute(`tool:${req.tool}`, async () => {
      await deps.hooks?.beforeEffect?.(req.tool);
      try {
        return await executeOnce(
          store,
          call,
          (tx) => runImplementation(implementation, args, { tx, actor: req.actor, idempotencyKey: req.idempotencyKey, workflowId: req.workflowId }),
          startedAt,
        );
      } catch (err) {
        // Governor's own store being down is not the tool's ill health (the failure table's StoreUnavailable row):
        // retried with the same key, never counted against the tool's breaker.
        if (isConnectionLoss(err)) throw retryableFailure('StoreUnavailable', `the store is unreachable: ${(err as Error).message}`, { cause: err as Error });
        throw err;
      }
    });
    if (!execution.evidence.deduplicated) deps.hooks?.afterEffect?.(execution.evidence);
    return execution;
  };

  /**
   * Every tool call is observed where it runs: one span (the GenAI conventions' `execute_tool`) with its permission
   * and evidence, and the tool metrics — calls by tool and evidence status (`error` for an attempt that threw and is
   * retried or fails the step) and their latency — through the activity's metric meter, so they reach the same
   * endpoint as the workflow metrics, tagged with the workflow type.
   */
  const observedTool = async <V extends EvidenceView>(req: ToolRequest & { evidence?: V }, fn: () => Promise<ToolExecution>): Promise<ToolExecution<unknown, EvidenceOf<V>>> => {
    const { metricMeter, info } = Context.current();
    // The activity's meter tags namespace, task queue and activity type; the workflow type is added here.
    const meter = metricMeter.withTags({ workflowType: info.workflowType ?? '' });
    const started = performance.now();
    const count = (status: string) => {
      meter.createCounter('governor_tool_calls', 'calls', 'Tool calls, by evidence status').withTags({ tool: req.tool, status }).add(1);
      meter.createHistogram('governor_tool_call_latency', 'int', 'ms', 'Tool call latency, effect and evidence').withTags({ tool: req.tool }).record(Math.round(performance.now() - started));
    };
    const execution = await inSpan(
      `execute_tool ${req.tool}`,
      { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': req.tool, 'governor.actor': req.actor, 'governor.action': req.action, 'governor.step': req.stepId },
      async (span) => {
        let execution: ToolExecution;
        try {
          execution = await fn();
        } catch (err) {
          count('error');
          throw err;
        }
        count(execution.evidence.status);
        span.setAttributes(evidenceAttributes(execution.evidence));
        return execution;
      },
    );
    return (req.evidence === 'digest' ? { result: execution.result, evidence: digestOf(execution.evidence) } : execution) as ToolExecution<unknown, EvidenceOf<V>>;
  };
  return {
    /** One model call, through the provider's circuit breaker. */
    async callModel(input: ModelCallInput): Promise<ModelCallResult> {
      const req = await fullRequest(input);
      const attempt = Context.current().info.attempt;
      if (req.cache?.read) {
        const hit = await cached(req);
        if (hit) {
          annotate({ 'governor.cache.hit': true });
          return { model: req.model, parsed: hit.value, parseError: null, usage: { inputTokens: 0, outputTokens: 0 }, stopReason: null, latencyMs: 0, requestId: null, prompt: req.prompt, attempt, cached: { at: hit.cachedAt } };
        }
      }
      // The shared limits first: outside the breaker, since a spent budget says nothing about the provider's health.
      if (spend) await admitModelCall(store, spend, req);
      const result = await breakers.execute(`model:${req.model.provider}`, () => callModel(providers, req));
      if (spend) await recordSpend(store, req.model.provider, costOf(result.model.model, result.usage, spendPrices), result.usage);
      // Cached unvalidated: every read validates what it gets, and an answer the workflow repairs replaces this one.
      if (req.cache?.write && result.parsed !== null && result.parsed !== undefined) cacheWriteBehind(req, result.parsed);
      annotateModelContent(req, result);
      // Transport retries happen in Temporal's retry loop, out of the workflow's sight: the answer says how many.
      return withoutRedundantText({ ...result, attempt });
    },

    /**
     * Input tokens of a request: the provider's own count where it offers one, else a real tokenizer's (o200k_base).
     * What a workflow's context budget is planned with; a local activity, so the count is recorded for replay.
     */
    async countTokens(req: TokenCountRequest): Promise<TokenCount> {
      // A registered prompt is counted by the text its hash names.
      const { prompt, ...rest } = req;
      const system = prompt ? (await pinnedOnly(() => prompts.content(prompt))).system : req.system;
      return countTokens(providers.get(req.model.provider), { ...rest, ...(system === undefined ? {} : { system }) });
    },

    /** A cached answer for exactly this prompt version, model and input, or null. */
    async cacheGet(input: ModelCallInput): Promise<{ value: unknown; cachedAt: string } | null> {
      return cached(await fullRequest(input));
    },

    /**
     * The first answer cached for this request by any of `models`, in their order: the same prompt version and input,
     * whichever model produced it. The last resort of a fallback chain whose models all failed.
     */
    async cacheGetAny(input: ModelCallInput, models: ModelRef[]): Promise<{ value: unknown; cachedAt: string; model: ModelRef } | null> {
      const req = await fullRequest(input);
      for (const model of models) {
        const hit = await cacheRow(cacheKey({ ...req, model }));
        if (hit) return { ...hit, model };
      }
      return null;
    },

    async cachePut(input: ModelCallInput, value: unknown): Promise<void> {
      await cacheWrite(await fullRequest(input), value);
    },

    /** The permission check: policy as code and data; its answer is recorded in history. */
    async checkPermission(req: { actor: string; tool: string }): Promise<PermissionDecision> {
      const workflowType = Context.current().info.workflowType ?? '';
      const spec = implementations.get(req.tool)?.spec;
      return evaluatePolicy(policy, req.actor, spec ? factsOf(spec) : null, req.tool, workflowType);
    },

    /** Executes a registry tool (read or write) with evidence, exactly once per idempotency key. */
    async executeTool<V extends EvidenceView = 'full'>(req: ToolRequest & { evidence?: V }): Promise<ToolExecution<unknown, EvidenceOf<V>>> {
      return observedTool(req, () => runTool(req));
    },

    /** Records a step that never ran (denied by policy or by a human) or failed for good. */
    async recordToolOutcome<V extends EvidenceView = 'full'>(req: ToolRequest & { evidence?: V; status: 'failed' | 'denied'; detail: string }): Promise<ToolExecution<unknown, EvidenceOf<V>>> {
      caller(req);
      const checked = checkToolCall(registry, req.tool, req.args);
      return observedTool(req, () => recordOutcome(store, toolCall(req, checked.ok ? checked.spec.resources(checked.args) : []), req.status, req.detail));
    },

    /** The controls in force for a workflow type (SLO breach actions): read once by a run, at its start. */
    async workflowControls(workflowType: string): Promise<WorkflowControls> {
      return readControls(store, workflowType);
    },

    /**
     * Queues the calling run for grading (it was auto-applied and drawn): idempotent per workflow id. The run is named
     * by Temporal, not by the request, so no run can queue another.
     */
    async queueForGrading(req: { output: unknown; input?: unknown; promptVersion: string; draw: number; rate: number }): Promise<boolean> {
      const run = callingRun();
      return terminalOnBadInput(() => queueForGrading(store, { ...run, output: req.output, input: req.input, promptVersion: req.promptVersion, draw: req.draw, rate: req.rate }));
    },

    /** Records a person's verdict on the calling run (the structured correction form): idempotent per run and kind. */
    async recordReview(req: {
      kind: 'correction' | 'grade';
      verdict: CorrectionVerdict | GradeVerdict;
      original: unknown;
      corrected?: unknown;
      input?: unknown;
      reason?: string | null;
      reviewer: string;
      promptVersion: string;
    }): Promise<ReviewRecord> {
      const run = callingRun();
      // The union is checked where it is parsed (kind against verdict); the cast only joins the two shapes here.
      return (await terminalOnBadInput(() => recordReview(store, { ...req, ...run } as Parameters<typeof recordReview>[1]))).record;
    },

    /**
     * What a run pins at its start: the version the label points at now (with its hash) and, when the calling
     * workflow has a rollout of this prompt, the candidate and whether this event falls in its share.
     */
    async resolveRun(req: { name: string; label: string; eventId: string }): Promise<PinnedRun> {
      const workflowType = Context.current().info.workflowType ?? '';
      return resolveRun(store, { ...req, workflowType });
    },

    /**
     * Evidence of a workflow, in order: whole records, or with `digest` only what a run's summary is built from (the
     * whole records are in the run's history already, one per step).
     */
    async listEvidence<V extends EvidenceView = 'full'>(workflowId: string, view?: V): Promise<Array<EvidenceOf<V>>> {
      const records = await evidenceForWorkflow(store, workflowId);
      return (view === 'digest' ? records.map(digestOf) : records) as Array<EvidenceOf<V>>;
    },

    /**
     * Asks the resource's lease workflow for the lease, starting it if none runs (signal-with-start): the grant
     * comes back to the requester as a signal.
     */
    async requestLease(req: LeaseRequest): Promise<void> {
      if (!deps.temporal) throw ApplicationFailure.nonRetryable('this worker has no Temporal client for leases', FailureType.InvalidConfig);
      await deps.temporal.workflow.signalWithStart(resourceLeaseWorkflowName, {
        workflowId: leaseWorkflowId(req.resource),
        taskQueue: Context.current().info.taskQueue,
        args: [{ resource: req.resource, ttl: req.ttl }],
        signal: leaseAcquireSignal,
        signalArgs: [req],
      });
    },

    /** Checks a handoff against the evidence store; see `verifyHandoff`. */
    async verifyHandoff(req: { handoff: unknown; expected: HandoffExpectation }): Promise<HandoffVerdict> {
      return verifyHandoff(store, req.handoff, req.expected);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
