import { z } from 'zod';
import type { ChatMessage } from '../contracts/model.js';

/** A zod schema as the JSON Schema providers take (derived, so the two can never drift), without `$schema`. */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema) as Record<string, unknown>;
  return rest;
}

/**
 * A prompt's repair turn: the model sees its own reply and every issue, each naming the field and the rule, then
 * the prompt's own instruction for answering again.
 */
export function repairTurn(instruction: string) {
  return (previous: readonly ChatMessage[], reply: string, issues: string): ChatMessage[] => [
    ...previous,
    { role: 'assistant', content: reply.length > 0 ? reply : '(no output)' },
    { role: 'user', content: `Your previous output was invalid: ${issues}. ${instruction}` },
  ];
}
