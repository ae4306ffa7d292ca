import { z } from 'zod';
import { ProviderName } from './model.js';

export const PromptName = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'lowercase letters, digits and _, starting with a letter');
export const PromptVersionId = z.string().regex(/^[A-Za-z0-9][\w.-]{0,39}$/, '1-40 letters, digits, ., _ or -');
export const PromptLabel = z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'a label is lowercase letters, digits, _ or - (production, staging, canary)');

/**
 * One version of a prompt, as the registry keeps it (the seed's prompt spec): what the model is asked and how, who
 * owns it, which eval suite gates it and which version to roll back to. Immutable once registered: its content hash
 * is its identity, and a changed text is a new version. The output's zod schema stays in code (it is the workflow's
 * contract); the registry holds the JSON Schema providers are sent.
 */
export const PromptRecord = z.strictObject({
  name: PromptName,
  version: PromptVersionId,
  owner: z.string().min(1),
  system: z.string().min(1),
  temperature: z.number().min(0).max(2),
  maxOutputTokens: z.number().int().positive().max(128_000),
  /** Default model per provider. */
  models: z.record(ProviderName, z.string().min(1)),
  output: z.strictObject({ name: z.string().min(1), description: z.string(), jsonSchema: z.record(z.string(), z.unknown()) }),
  cache: z.strictObject({ reuse: z.boolean(), lastResort: z.boolean() }),
  /** The fields of the trigger the prompt reads. */
  inputs: z.array(z.string()).default([]),
  /** The eval suite a promotion must pass. */
  evalSuite: z.string().nullable().default(null),
  rollbackVersion: PromptVersionId.nullable().default(null),
  /** The workflow types that use it: a rollout freeze on any of them stops its promotion. */
  usedBy: z.array(z.string().min(1)).default([]),
});
export type PromptRecord = z.infer<typeof PromptRecord>;
export type PromptRecordInput = z.input<typeof PromptRecord>;

/**
 * A registered version as a run pins it: the settings its steps read, and the hash (beside it in `PinnedPrompt`) that
 * names the whole record. The registry keeps the rest under that hash — the system prompt's text and the output's JSON
 * Schema, which the model-call activity reads by hash at each call, and the record's governance (owner, eval suite,
 * rollback version) — so a run's history names its prompt instead of holding it. `systemChars` is the text's length,
 * for a step's cost estimate before a call. Runs pinned before this kept the whole record in history, and `codePinned`
 * carries the code's: there `system` and `output.jsonSchema` are present.
 */
export type PinnedRecord = Pick<PromptRecord, 'name' | 'version' | 'temperature' | 'maxOutputTokens' | 'cache'> & {
  readonly system?: string;
  readonly systemChars?: number;
  readonly output: { readonly name: string; readonly description: string; readonly jsonSchema?: Record<string, unknown> };
};

/** What a run pins of a registered record (see `PinnedRecord`). */
export function pinnedRecordOf(r: PromptRecord): PinnedRecord {
  return {
    name: r.name,
    version: r.version,
    temperature: r.temperature,
    maxOutputTokens: r.maxOutputTokens,
    cache: r.cache,
    systemChars: r.system.length,
    output: { name: r.output.name, description: r.output.description },
  };
}

/** The prompt a run resolved at its start and keeps for its whole life, pinned in its history. */
export interface PinnedPrompt {
  readonly record: PinnedRecord;
  /** sha256 of the record's canonical JSON; null for a run begun before the registry (it used the code's spec). */
  readonly hash: string | null;
  /** The label it was resolved through (`production`), or null when named by version. */
  readonly label: string | null;
}

/**
 * How a candidate prompt version reaches traffic, per workflow type:
 * - `shadow`: the candidate runs beside production on its share of runs and both outputs are recorded; production's
 *   decision is applied;
 * - `suggestion`: on its share, the candidate's output goes to a reviewer and is never applied on its own;
 * - `partial`: on its share, the candidate decides, auto-applying only what passes validation, confidence and policy;
 * - `full`: the candidate decides every run.
 */
export const RolloutStage = z.enum(['shadow', 'suggestion', 'partial', 'full']);
export type RolloutStage = z.infer<typeof RolloutStage>;

export const Rollout = z.strictObject({
  workflowType: z.string().min(1),
  promptName: PromptName,
  candidateVersion: PromptVersionId,
  stage: RolloutStage,
  /** The share of runs (by a hash of the event id) the candidate takes, 0..1; `full` takes all. */
  share: z.number().min(0).max(1),
});
export type Rollout = z.infer<typeof Rollout>;

/** What a run resolved at its start: its prompt, and the rollout it fell into (pinned with it). */
export interface PinnedRun {
  /** The version that decides this run. */
  readonly prompt: PinnedPrompt;
  /** The production version, when the candidate decides or shadows (null otherwise). */
  readonly production: PinnedPrompt | null;
  /** The candidate running beside production, in `shadow` (null otherwise). */
  readonly shadow: PinnedPrompt | null;
  readonly rollout: { readonly stage: RolloutStage; readonly share: number; readonly candidateVersion: string; readonly inShare: boolean } | null;
}

/**
 * Where an event falls in [0, 1): FNV-1a over its id. Written here, not taken from a hashing library, because it
 * must run unchanged inside the workflow sandbox (no `node:crypto`) and give every worker the same answer forever;
 * it splits traffic, it guards nothing.
 */
export function splitPoint(eventId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < eventId.length; i++) {
    h ^= eventId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // The low bits of FNV-1a mix poorly for short similar ids: fold the high half in before scaling.
  h = (h ^ (h >>> 16)) >>> 0;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h = (h ^ (h >>> 13)) >>> 0;
  return h / 0x1_0000_0000;
}

/** One metric of an eval, in the seed's form: a value against its target, never folded into one score. */
export interface EvalMetric {
  readonly name: string;
  /** null when the suite had no case the metric applies to. */
  readonly value: number | null;
  readonly target: number;
  /** `min`: the value must reach the target; `max`: it must not pass it. */
  readonly direction: 'min' | 'max';
  /** A gated metric that misses fails the eval (and blocks a promotion). */
  readonly gated: boolean;
  readonly unit: 'ratio' | 'ms' | 'usd';
}

export function metricMet(m: EvalMetric): boolean {
  if (m.value === null) return true;
  return m.direction === 'min' ? m.value >= m.target : m.value <= m.target;
}

/** An eval passes when every gated metric meets its target. */
export function evalPassed(metrics: readonly EvalMetric[]): boolean {
  return metrics.every((m) => !m.gated || metricMet(m));
}
