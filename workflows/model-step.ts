import {
  log,
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  proxyActivities,
  proxyLocalActivities,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { durationMs } from './duration.js';
import type { z } from 'zod';
import type { Activities } from '../activities/index.js';
import type { Budgets, Ledger } from '../contracts/budget.js';
import { FailureType, nonRetryableTypes } from '../contracts/failures.js';
import { formatIssues } from '../contracts/issues.js';
import { replyText, type ChatMessage, type ModelCallInput, type ModelCallResult, type ModelRef, type PromptRef } from '../contracts/model.js';
import { charge, estimateCall, exhausted } from './ledger.js';
import { kitMetrics } from './metrics.js';
import { modelCallSpan } from './tracing.js';
import { validateOutput, type BusinessRule } from './validate.js';

/** What a governed step asks of the model: a versioned prompt and a structured output. */
interface StepPromptSettings {
  readonly name: string;
  readonly version: string;
  readonly temperature: number;
  readonly maxOutputTokens: number;
  /**
   * Response cache. `reuse`: identical input to the same prompt version and model is answered from the cache before
   * any call. `lastResort`: when every model of the chain failed, an answer cached for the same prompt version and
   * input by any model of the chain is returned for review (`needs_review`, reason `cached_last_resort`).
   * Answers are cached, under the model that gave them, when either is on.
   */
  readonly cache: { readonly reuse: boolean; readonly lastResort: boolean };
}

/** A prompt that lives in code: each call carries its system prompt and output schema. */
export interface InlineStepPrompt extends StepPromptSettings {
  readonly system: string;
  readonly output: { readonly name: string; readonly description: string; readonly jsonSchema: Record<string, unknown> };
  readonly hash?: null;
}

/**
 * A registered version, named by its content hash (from a pin): each model call carries `{name, version, hash}` and
 * the activity reads the system prompt and output schema from the registry, instead of both being written into
 * history with every call. `systemChars` is the system prompt's length, for the step's cost estimate.
 */
export interface RegisteredStepPrompt extends StepPromptSettings {
  readonly hash: string;
  readonly systemChars: number;
  readonly output: { readonly name: string; readonly description: string };
}

/** The prompt of a governed step. */
export type StepPrompt = InlineStepPrompt | RegisteredStepPrompt;

/** True when the prompt is named by hash rather than carried. */
export function isRegisteredPrompt(prompt: StepPrompt): prompt is RegisteredStepPrompt {
  return typeof prompt.hash === 'string';
}

/** How a call names a registered prompt. */
export function promptRefOf(prompt: RegisteredStepPrompt): PromptRef {
  return { name: prompt.name, version: prompt.version, hash: prompt.hash };
}

/** What a prompt spec (`prompts/*.ts`) carries that a governed step needs; its output schema as JSON Schema apart. */
export type PromptSpec = Omit<InlineStepPrompt, 'output'> & { readonly output: { readonly name: string; readonly description: string } };

/** The step's view of a versioned prompt spec, with the provider-facing JSON Schema of its output. */
export function stepPrompt(spec: PromptSpec, jsonSchema: Record<string, unknown>): InlineStepPrompt {
  return {
    name: spec.name,
    version: spec.version,
    system: spec.system,
    temperature: spec.temperature,
    maxOutputTokens: spec.maxOutputTokens,
    output: { name: spec.output.name, description: spec.output.description, jsonSchema },
    cache: spec.cache,
  };
}

export interface ModelStepOptions<T> {
  /** Names the step in the ledger and the trail. */
  readonly step: string;
  readonly prompt: StepPrompt;
  readonly schema: z.ZodType<T>;
  readonly rules: ReadonlyArray<BusinessRule<T>>;
  readonly messages: readonly ChatMessage[];
  /** Builds the repair turn from the conversation so far, the invalid reply and its issues. */
  readonly repair: (messages: readonly ChatMessage[], reply: string, issues: string) => ChatMessage[];
  /** Models in order of preference, across providers. */
  readonly chain: readonly ModelRef[];
  readonly budgets: Budgets;
  /** The run's ledger (workflow state): charged in place. */
  readonly ledger: Ledger;
  readonly confidence?: { readonly of: (value: T) => number; readonly threshold: number };
  /** Start-to-close timeout of one model call attempt. */
  readonly callTimeout: Duration;
  /** Called after every model call, valid or not, for the run's visible state. */
  readonly onCall?: (call: ModelCallResult, valid: boolean, issues: string[]) => void;
  /**
   * The model-call activity reads and writes the response cache itself (`ModelCallRequest.cache`): a step's first call
   * is answered from the cache when the prompt reuses answers, and a fresh answer is cached by the call that got it, so
   * a miss costs no local activity before the call and none after it (each is a round trip from the workflow to the
   * worker, and a marker). What the step returns is the same: a cached answer is validated again and charged nothing,
   * an answer the workflow later repairs is cached after its repair. A workflow turns it on behind a version marker.
   */
  readonly cacheInCall?: boolean;
}

/** One line of the step's trail: which model did what, and why the others were skipped. */
export interface TrailEntry {
  readonly model: string;
  readonly provider: string;
  readonly event: 'answered' | 'invalid' | 'failed' | 'downgraded' | 'cache_hit' | 'cache_last_resort';
  readonly detail: string;
}

export type ModelStepOutcome<T> =
  | { readonly status: 'ok'; readonly value: T; readonly model: ModelRef; readonly cached: boolean; readonly trail: TrailEntry[] }
  | {
      readonly status: 'needs_review';
      readonly reason: 'low_confidence' | 'invalid_output' | 'cached_last_resort';
      readonly value: T | null;
      readonly detail: string;
      readonly trail: TrailEntry[];
    }
  | { readonly status: 'refused' | 'budget_exceeded' | 'all_models_failed'; readonly detail: string; readonly trail: TrailEntry[] };

function failureOf(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) return err.cause.type ?? 'ApplicationFailure';
  if (err instanceof ActivityFailure && err.cause instanceof TimeoutFailure) return `ActivityTimeout(${err.cause.timeoutType})`;
  return 'ActivityFailure';
}

function messageOf(err: unknown): string {
  return err instanceof ActivityFailure ? (err.cause?.message ?? err.message) : String(err);
}

/**
 * One governed model step: call → validate (zod + business rules) → repair with the issues (bounded) → confidence
 * gate, across a fallback chain of models, charged to the run's ledger and held to its budgets. It never throws for
 * a model's misbehaviour: every way it can end is a typed outcome the workflow routes.
 */
export async function governedModelStep<T>(options: ModelStepOptions<T>): Promise<ModelStepOutcome<T>> {
  const { budgets, ledger, prompt, chain } = options;
  const activityOptions: ActivityOptions = {
    startToCloseTimeout: options.callTimeout,
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '20s',
      maximumAttempts: budgets.transportAttempts,
      // From the failure table: a model step falls back to the next model rather than wait on an open breaker.
      nonRetryableErrorTypes: nonRetryableTypes('model'),
    },
  };
  const { callModel } = proxyActivities<Activities>(activityOptions);
  // Cache reads and writes are millisecond queries on the worker's own store: as local activities they cost no
  // round trip through the server (two workflow tasks and two activity dispatches per run). Failures are cheap to
  // repeat, so 3 attempts within 5 s each.
  const cacheOptions: ActivityOptions = { startToCloseTimeout: '5s', retry: { maximumAttempts: 3 } };
  const localCache = proxyLocalActivities<Activities>(cacheOptions);
  const trail: TrailEntry[] = [];
  const startedAt = workflowInfo().runStartTime.getTime();
  const maxWallMs = durationMs(budgets.maxWallTime as Duration);
  // Workflow time, not the wall clock: the sandbox's Date is the time of the current workflow task.
  const elapsed = () => new Date().getTime() - startedAt;
  const request = (model: ModelRef, messages: readonly ChatMessage[]): ModelCallInput =>
    isRegisteredPrompt(prompt)
      ? { model, temperature: prompt.temperature, maxOutputTokens: prompt.maxOutputTokens, messages, prompt: promptRefOf(prompt) }
      : {
          model,
          temperature: prompt.temperature,
          maxOutputTokens: prompt.maxOutputTokens,
          system: prompt.system,
          messages,
          output: prompt.output,
          prompt: { name: prompt.name, version: prompt.version },
        };

  const gate = (value: T, model: ModelRef, cached: boolean): ModelStepOutcome<T> => {
    const confidence = options.confidence?.of(value);
    if (options.confidence && confidence !== undefined && confidence < options.confidence.threshold) {
      return { status: 'needs_review', reason: 'low_confidence', value, detail: `confidence ${confidence} is below ${options.confidence.threshold}`, trail };
    }
    return { status: 'ok', value, model, cached, trail };
  };

  const primary = chain[0];
  if (!primary) throw ApplicationFailure.nonRetryable('the model chain is empty', FailureType.InvalidConfig);
  const useCache = prompt.cache.reuse || prompt.cache.lastResort;
  // The cache is an optimisation: when the store cannot answer (after the local activity's own attempts) a read is a
  // miss and a write is skipped, so a store outage slows a step down but never fails it.
  const cacheGet = (req: ModelCallInput) => localCache.cacheGet(req).catch(() => null);
  const cacheGetAny = (req: ModelCallInput, models: ModelRef[]) => localCache.cacheGetAny(req, models).catch(() => null);
  const cachePut = (req: ModelCallInput, value: unknown) => localCache.cachePut(req, value).catch(() => undefined);
  // In-call: the first call of the primary reads the cache; an answer that fails validation is asked for again,
  // this time of the model.
  let readInCall = options.cacheInCall === true && useCache && prompt.cache.reuse;
  // A cached answer is used only if it validates now; it is charged nothing. Null: ask the model.
  const fromCache = (value: unknown, model: ModelRef, cachedAt: string): ModelStepOutcome<T> | null => {
    const validation = validateOutput(options.schema, options.rules, value, null);
    if (!validation.ok) return null;
    charge(ledger, options.step, model, { inputTokens: 0, outputTokens: 0 }, budgets, true);
    trail.push({ model: model.model, provider: model.provider, event: 'cache_hit', detail: `cached ${cachedAt}` });
    return gate(validation.value, model, true);
  };
  if (useCache && prompt.cache.reuse && !options.cacheInCall) {
    const hit = await cacheGet(request(primary, options.messages));
    const served = hit ? fromCache(hit.value, primary, hit.cachedAt) : null;
    if (served) return served;
  }

  let repairsLeft = budgets.maxRepairRounds;
  for (const candidate of chain) {
    let model = candidate;
    let messages: ChatMessage[] = [...options.messages];
    for (;;) {
      const stop = exhausted(ledger, budgets, elapsed(), maxWallMs);
      if (stop) return { status: 'budget_exceeded', detail: stop, trail };
      if (budgets.downgradeOnBudget) {
        const chars = (isRegisteredPrompt(prompt) ? prompt.systemChars : prompt.system.length) + messages.reduce((n, m) => n + m.content.length, 0);
        const fits = (m: ModelRef) => ledger.usd + estimateCall(m.model, chars, prompt.maxOutputTokens, budgets) <= budgets.maxUsd;
        if (!fits(model)) {
          const cheaper = [...chain]
            .filter(fits)
            .sort((a, b) => estimateCall(a.model, chars, 1, budgets) - estimateCall(b.model, chars, 1, budgets))[0];
          if (cheaper && cheaper.model !== model.model) {
            trail.push({ model: model.model, provider: model.provider, event: 'downgraded', detail: `estimated cost would pass $${budgets.maxUsd}; using ${cheaper.model}` });
            model = cheaper;
          }
        }
      }
      let reply: ModelCallResult;
      const span = modelCallSpan.start(options.step, prompt, model);
      // The step's first request to this model: the one a cached answer is keyed by.
      const first = messages.length === options.messages.length;
      try {
        const req = request(model, messages);
        const cache = options.cacheInCall && useCache && first ? { cache: { read: readInCall && model === primary, write: true } } : {};
        reply = await modelCallSpan.around(span, () => callModel({ ...req, ...cache }));
      } catch (err) {
        const type = failureOf(err);
        modelCallSpan.failed(span, type);
        trail.push({ model: model.model, provider: model.provider, event: 'failed', detail: `${type}: ${messageOf(err)}` });
        log.warn('model call failed', { step: options.step, promptVersion: `${prompt.name}@${prompt.version}`, provider: model.provider, model: model.model, failure: type });
        if (type === FailureType.ModelRefused) return { status: 'refused', detail: messageOf(err), trail };
        // The deployment's daily spend ceiling: no model of the chain may be called either.
        if (type === FailureType.SpendCeilingReached) return { status: 'budget_exceeded', detail: messageOf(err), trail };
        break; // next model in the chain
      }
      if (reply.cached) {
        modelCallSpan.cached(span, reply.cached.at);
        readInCall = false;
        const served = fromCache(reply.parsed, reply.model, reply.cached.at);
        if (served) return served;
        continue; // a cached answer that no longer validates: ask the model
      }
      const charged = charge(ledger, options.step, reply.model, reply.usage, budgets);
      const validation = validateOutput(options.schema, options.rules, reply.parsed, reply.parseError);
      const issues = validation.ok ? [] : validation.issues.map((i) => `${i.field}: ${i.rule}`);
      modelCallSpan.answered(span, reply, charged.usd, { valid: validation.ok, fields: validation.ok ? [] : validation.issues.map((i) => i.field) });
      // The workflow logger adds the workflow and run ids; no prompt or reply text goes into a log line.
      log.info('model call', {
        step: options.step,
        promptVersion: `${prompt.name}@${prompt.version}`,
        provider: reply.model.provider,
        model: reply.model.model,
        attempt: reply.attempt ?? 1,
        inputTokens: reply.usage.inputTokens,
        outputTokens: reply.usage.outputTokens,
        latencyMs: reply.latencyMs,
        valid: validation.ok,
        issues: validation.ok ? 0 : validation.issues.length,
      });
      kitMetrics.modelCall(
        { step: options.step, promptVersion: `${prompt.name}@${prompt.version}`, model: reply.model.model, provider: reply.model.provider, valid: validation.ok },
        { inputTokens: reply.usage.inputTokens, outputTokens: reply.usage.outputTokens, latencyMs: reply.latencyMs, attempt: reply.attempt ?? 1, usd: charged.usd },
      );
      options.onCall?.(reply, validation.ok, issues);
      if (validation.ok) {
        trail.push({ model: model.model, provider: model.provider, event: 'answered', detail: 'valid' });
        // Keyed by the model that answered (and the first request's input, not a repair turn's), so a later hit is
        // attributed to the model that gave the answer.
        // In-call, the call that got a first answer cached it; a repaired answer is cached here, over the first.
        if (useCache && !(options.cacheInCall && first)) await cachePut(request(model, options.messages), validation.value);
        return gate(validation.value, model, false);
      }
      const issueText = formatIssues(validation.issues);
      trail.push({ model: model.model, provider: model.provider, event: 'invalid', detail: issueText });
      if (repairsLeft <= 0) return { status: 'needs_review', reason: 'invalid_output', value: null, detail: issueText, trail };
      repairsLeft--;
      kitMetrics.repair({ step: options.step, promptVersion: `${prompt.name}@${prompt.version}` });
      messages = options.repair(messages, replyText(reply), issueText);
    }
  }
  const detail = trail.filter((t) => t.event === 'failed').map((t) => `${t.provider}/${t.model}: ${t.detail}`).join('; ');
  // Last resort, where the prompt allows it: an answer cached for this input by any model of the chain. It is never
  // applied as is: no model that is up has seen this input, so a reviewer confirms it.
  if (useCache && prompt.cache.lastResort) {
    const hit = await cacheGetAny(request(primary, options.messages), [...chain]);
    const validation = hit ? validateOutput(options.schema, options.rules, hit.value, null) : null;
    if (hit && validation?.ok) {
      charge(ledger, options.step, hit.model, { inputTokens: 0, outputTokens: 0 }, budgets, true);
      trail.push({ model: hit.model.model, provider: hit.model.provider, event: 'cache_last_resort', detail: `every model failed; answer cached ${hit.cachedAt}` });
      return {
        status: 'needs_review',
        reason: 'cached_last_resort',
        value: validation.value,
        detail: `every model in the chain failed (${detail}); using the answer ${hit.model.provider}/${hit.model.model} gave for the same input (cached ${hit.cachedAt}) for a reviewer to confirm`,
        trail,
      };
    }
  }
  return { status: 'all_models_failed', detail, trail };
}
