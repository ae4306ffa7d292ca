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

/** The prompt a run resolved at its start and keeps for its whole life, pinned in its history. */
export interface PinnedPrompt {
  readonly record: PromptRecord;
  /** sha256 of the record's canonical JSON; null for a run begun before the registry (it used the code's spec). */
  readonly hash: string | null;
  /** The label it was resolved through (`production`), or null when named by version. */
  readonly label: string | null;
}
