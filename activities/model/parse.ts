/**
 * Reads the JSON value out of a model's text reply. A reply wrapped in a Markdown code fence is unwrapped (models do
 * that even when told not to, and the content is still what they meant); anything else that is not JSON is reported,
 * not guessed at, so the workflow can ask for a repair.
 */
export function extractJson(text: string): { parsed: unknown; parseError: string | null } {
  const trimmed = text.trim();
  if (trimmed.length === 0) return { parsed: null, parseError: 'the reply was empty' };
  const fenced = /^```[a-zA-Z]*\s*\n?([\s\S]*?)\n?```$/.exec(trimmed);
  const candidate = fenced?.[1] ?? trimmed;
  try {
    return { parsed: JSON.parse(candidate), parseError: null };
  } catch (err) {
    return { parsed: null, parseError: `the reply is not valid JSON (${(err as Error).message})` };
  }
}

/**
 * OpenAI's strict structured outputs reject some JSON Schema keywords (string length bounds among them). They are
 * dropped from what is sent; the workflow's zod validation still enforces them on the reply.
 */
const OPENAI_UNSUPPORTED = new Set(['minLength', 'maxLength']);

export function toOpenAIStrictSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toOpenAIStrictSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([key]) => !OPENAI_UNSUPPORTED.has(key))
      .map(([key, value]) => [key, toOpenAIStrictSchema(value)]),
  );
}
