import type { z } from 'zod';
import { issuesFrom, type ValidationIssue } from '../contracts/issues.js';

/** A business rule over a schema-valid output: returns the issues it finds (one, several or none). Pure code, never a prompt. */
export interface BusinessRule<T> {
  readonly id: string;
  check(value: T): ValidationIssue | readonly ValidationIssue[] | null;
}

export type Validation<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly issues: ValidationIssue[] };

/**
 * Schema first, then business rules: a reply is usable only when both pass. A reply with no JSON at all is one
 * issue at the root naming why.
 */
export function validateOutput<T>(
  schema: z.ZodType<T>,
  rules: ReadonlyArray<BusinessRule<T>>,
  parsed: unknown,
  parseError: string | null,
): Validation<T> {
  if (parseError !== null) return { ok: false, issues: [{ field: '(root)', rule: parseError }] };
  const result = schema.safeParse(parsed);
  if (!result.success) return { ok: false, issues: issuesFrom(result.error) };
  const issues = rules.flatMap((r) => r.check(result.data) ?? []);
  return issues.length === 0 ? { ok: true, value: result.data } : { ok: false, issues };
}
