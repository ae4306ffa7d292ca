/**
 * What the two fuzz files share: how a generated case says where its mutations landed, how a refusal is checked to
 * name them, and how a failing run is replayed (`FUZZ_SEED`, `FUZZ_PATH`) or scaled (`GOVERNOR_FUZZ_SCALE`).
 */
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import type fc from 'fast-check';
import type { ValidationIssue } from '../../contracts/issues.js';

export type Path = readonly string[];
export type Expect = 'accept' | 'refuse' | 'either';

/** Where a mutation landed: a field's path, or an unknown `key` added to the object at `path`. */
export interface Target {
  readonly path: Path;
  readonly key?: string;
}

export interface Mutation {
  readonly what: string;
  readonly target: Target;
  readonly expect: Expect;
  apply(root: unknown): void;
}

export interface Case {
  readonly payload: unknown;
  readonly targets: readonly Target[];
  readonly expect: Expect;
  readonly mutations: readonly string[];
}

/** `npm run chaos` runs the same properties on more payloads (`GOVERNOR_FUZZ_SCALE`, default 1 in the suite). */
export const FUZZ_SCALE = Math.max(1, Number(process.env.GOVERNOR_FUZZ_SCALE ?? 1));

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const fieldOf = (path: Path) => (path.length > 0 ? path.join('.') : '(root)');
/** Defines an own property, so `__proto__` is a key like any other rather than a prototype. */
export const put = (o: Record<string, unknown>, key: string, value: unknown) => Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });

export function objectAt(root: unknown, path: Path): Record<string, unknown> | null {
  let node = root;
  for (const key of path) {
    if (!isRecord(node) || !Object.hasOwn(node, key)) return null;
    node = node[key];
  }
  return isRecord(node) ? node : null;
}

/** JSON text of a value, or null when JSON cannot carry it. */
export function jsonOf(value: unknown): string | null {
  try {
    return JSON.stringify(value) ?? null;
  } catch {
    return null;
  }
}

/** True when JSON carries the value unchanged: it may be sent as text, or through Temporal's data converter as it is. */
export function survivesJson(value: unknown): boolean {
  const text = jsonOf(value);
  return text !== null && isDeepStrictEqual(JSON.parse(text), value);
}

/** Replays a failure when `FUZZ_SEED` (and `FUZZ_PATH`) are set; otherwise new cases each run. */
export function fuzzRuns(numRuns: number, plugins: NonNullable<fc.Parameters<unknown>['plugins']> = []): fc.Parameters<unknown> {
  const seed = process.env.FUZZ_SEED;
  return {
    numRuns,
    ...(plugins.length > 0 ? { plugins } : {}),
    ...(seed ? { seed: Number(seed), ...(process.env.FUZZ_PATH ? { path: process.env.FUZZ_PATH } : {}) } : {}),
  };
}

/** Is an issue (or a refusal message's `field: rule`) about this mutation? */
export function isAbout(field: string, rule: string, t: Target): boolean {
  const at = fieldOf(t.path);
  // An unknown key: the key itself, or what sits under it (a value JSON cannot carry is named where it is).
  if (t.key === undefined) return at === '(root)' || field === at || field.startsWith(`${at}.`);
  const under = [...t.path, t.key].join('.');
  return (field === at && rule.includes(t.key)) || field === under || field.startsWith(`${under}.`);
}

/**
 * The refusal names the mutated fields: every issue is at a mutated field (or inside it), or names an unknown key at
 * its object; at least one issue exists; each has a rule.
 */
export function assertNamesTargets(issues: readonly ValidationIssue[], c: Case): void {
  assert.ok(issues.length > 0, 'a refusal with no issue');
  for (const i of issues) {
    assert.equal(typeof i.field, 'string');
    assert.ok(i.rule.trim().length > 0, `issue at ${i.field} has no rule`);
    assert.ok(c.targets.some((t) => isAbout(i.field, i.rule, t)), `issue ${i.field}: ${i.rule} is about none of: ${c.mutations.join('; ') || 'nothing (the payload was valid)'}`);
  }
}
