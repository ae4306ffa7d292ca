import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * The search attributes every governed workflow keeps: the review queue and the Temporal UI's lists read them.
 * A workflow adds its own (a category, a customer tier) in its descriptor; all of them are registered with the
 * server before workers start.
 */
export const governorSearchAttributes = {
  phase: defineSearchAttributeKey('GovernorPhase', SearchAttributeType.KEYWORD),
  awaitingReview: defineSearchAttributeKey('GovernorAwaitingReview', SearchAttributeType.BOOL),
  promptVersion: defineSearchAttributeKey('GovernorPromptVersion', SearchAttributeType.KEYWORD),
} as const;

export type AnySearchAttributeKey = ReturnType<typeof defineSearchAttributeKey<SearchAttributeType>>;

/** Governor's own keys plus `extra`, without duplicates (by name): what a server must register. */
export function searchAttributeKeys(extra: readonly AnySearchAttributeKey[] = []): AnySearchAttributeKey[] {
  const all = new Map<string, AnySearchAttributeKey>();
  for (const key of [...Object.values(governorSearchAttributes), ...extra]) all.set(key.name, key);
  return [...all.values()];
}
