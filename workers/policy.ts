import { readFile } from 'node:fs/promises';
import { formatIssues, issuesFrom } from '../contracts/issues.js';
import { Policy } from '../contracts/policy.js';

/** A permission policy from a JSON file, validated: an unreadable or invalid file is an error naming the field. */
export async function loadPolicyFile(file: string): Promise<Policy> {
  let raw: unknown;
  try {
    raw = JSON.parse((await readFile(file, 'utf8')).replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new Error(`cannot read policy ${file}: ${(err as Error).message}`);
  }
  const parsed = Policy.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid policy ${file}: ${formatIssues(issuesFrom(parsed.error))}`);
  return parsed.data;
}
