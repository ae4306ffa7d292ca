import type { z } from 'zod';

/** One validation problem, naming the field (a dotted path) and the rule it broke. */
export interface ValidationIssue {
  readonly field: string;
  readonly rule: string;
}

/** Turns zod's issues into field + rule pairs a person (or a repairing model) can act on. */
export function issuesFrom(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)',
    rule: issue.message,
  }));
}

export function formatIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => `${i.field}: ${i.rule}`).join('; ');
}
