import { ApplicationFailure, proxyLocalActivities } from '@temporalio/workflow';
import { FailureType } from '../contracts/failures.js';
import type { Activities } from '../activities/index.js';
import type { PinnedPrompt, PinnedRun, PromptRecord } from '../contracts/prompts.js';
import type { StepPrompt } from './model-step.js';
import type { Read } from './reads.js';

/** A millisecond read on the worker's own store, recorded once as a marker: the pin. */
const { resolveRun } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '5s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 10 },
});

/**
 * Resolves the prompt `label` points at in the registry, once, and pins it: the version and its content hash are in
 * the run's history (the local activity's marker), so a label moved mid-run — a promotion, a rollback — changes
 * nothing for this run, in replay too, and the next run gets the new version without a redeploy. When the workflow
 * has a rollout of this prompt, the run's place in it (by a hash of `eventId`) is pinned with it: which version
 * decides, and whether a candidate shadows it.
 *
 * When the registry cannot answer (the store down, the prompt never registered), the workflow task fails and
 * Temporal retries it: a run never guesses a version.
 */
export async function pinRun(code: Pick<PromptRecord, 'name'>, options: { eventId: string; label?: string }): Promise<PinnedRun> {
  const label = options.label ?? 'production';
  try {
    return await resolveRun({ name: code.name, label, eventId: options.eventId });
  } catch (err) {
    throw unresolved(code.name, label, (err as { cause?: Error }).cause?.message ?? (err as Error).message);
  }
}

/** The pin as one read of several (`readTogether`): when the registry cannot answer, the workflow task fails alike. */
export function pinRead(code: Pick<PromptRecord, 'name'>, options: { eventId: string; label?: string }): Read<PinnedRun> {
  const label = options.label ?? 'production';
  return {
    activity: 'resolveRun',
    args: [{ name: code.name, label, eventId: options.eventId }],
    settle: (outcome) => {
      if (outcome.ok) return outcome.value as PinnedRun;
      throw unresolved(code.name, label, outcome.error.message);
    },
  };
}

/** Not a Temporal failure: it fails the workflow task, which Temporal retries, instead of failing the run. */
function unresolved(name: string, label: string, why: string): Error {
  return new Error(`the prompt registry could not resolve ${name}@${label}: ${why}`);
}

/** A run that uses `code` as it is (one begun before the registry): no hash, no rollout. */
export function codePinned(code: PromptRecord): PinnedRun {
  const prompt: PinnedPrompt = { record: code, hash: null, label: null };
  return { prompt, production: null, shadow: null, rollout: null };
}

/**
 * The governed step's view of a pinned prompt: by hash for a registered version (its calls name it and the activity
 * reads text and schema from the registry), inline for a code-pinned one.
 */
export function stepPromptOf(pinned: PinnedPrompt): StepPrompt {
  const r = pinned.record;
  const settings = { name: r.name, version: r.version, temperature: r.temperature, maxOutputTokens: r.maxOutputTokens, cache: r.cache };
  const output = { name: r.output.name, description: r.output.description };
  // A run pinned before pins were slimmed holds the whole record: its length is the text's.
  if (pinned.hash !== null) return { ...settings, output, hash: pinned.hash, systemChars: r.systemChars ?? r.system?.length ?? 0 };
  if (r.system === undefined || r.output.jsonSchema === undefined) {
    throw ApplicationFailure.nonRetryable(`prompt ${r.name}@${r.version} has no hash and no text: a code-pinned prompt carries its system prompt and output schema`, FailureType.InvalidConfig);
  }
  return { ...settings, system: r.system, output: { ...output, jsonSchema: r.output.jsonSchema } };
}
