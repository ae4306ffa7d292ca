import { z } from 'zod';
import { issuesFrom, type ValidationIssue } from './issues.js';

/** Risk levels in increasing order; the permission policy can require approval at or above one. */
export const Risk = z.enum(['low', 'medium', 'high', 'critical']);
export type Risk = z.infer<typeof Risk>;
export const RISK_ORDER: readonly Risk[] = Risk.options;

/** How a tool's activity is timed and retried. Writes are retried safely because they dedupe on the idempotency key. */
export interface ToolProfile {
  readonly startToCloseTimeout: string;
  readonly maximumAttempts: number;
  readonly initialInterval: string;
  readonly maximumInterval: string;
}

/** Reads are cheap and side-effect free: fail fast per attempt; 6 attempts over about 9 s ride out a store restart. */
export const READ_PROFILE: ToolProfile = { startToCloseTimeout: '5s', maximumAttempts: 6, initialInterval: '300ms', maximumInterval: '5s' };
/** Writes ride out a database restart (5 attempts over about a minute); the idempotency key makes each safe. */
export const WRITE_PROFILE: ToolProfile = { startToCloseTimeout: '10s', maximumAttempts: 5, initialInterval: '1s', maximumInterval: '30s' };

/**
 * A tool, declared once: what the model may propose, what the policy checks, what the tool layer executes. Pure
 * data and functions, so workflows validate arguments and derive resources before anything runs.
 */
export interface ToolSpec<A = unknown, R = unknown> {
  readonly name: string;
  readonly description: string;
  /** Reads run in parallel and never wait on leases; writes hold a lease on each resource they touch. */
  readonly kind: 'read' | 'write';
  readonly args: z.ZodType<A>;
  readonly result: z.ZodType<R>;
  /** The resources a call touches, from its arguments (`ticket:tkt_9041`). */
  resources(args: A): string[];
  readonly risk: Risk;
  /** The scope an actor must hold to call it. */
  readonly scope: string;
  readonly profile: ToolProfile;
}

export function defineTool<A, R>(spec: ToolSpec<A, R>): ToolSpec<A, R> {
  return spec;
}

/** A set of tools by name: what a workflow offers a model, what a worker can execute. */
/** Any declaration, whatever its argument and result types: what a registry of different tools holds. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a heterogeneous list; each tool's zod schemas check it at run time
export type AnyToolSpec = ToolSpec<any, any>;

export type ToolRegistry = Readonly<Record<string, ToolSpec>>;

/** Builds a registry from declarations; two tools with one name are a configuration error, named. */
export function toolRegistry(tools: readonly AnyToolSpec[]): ToolRegistry {
  const registry: Record<string, ToolSpec> = {};
  for (const tool of tools) {
    if (Object.prototype.hasOwnProperty.call(registry, tool.name)) throw new Error(`two tools are named ${JSON.stringify(tool.name)}`);
    registry[tool.name] = tool as ToolSpec;
  }
  return registry;
}

export type ToolCallCheck =
  | { readonly ok: true; readonly spec: ToolSpec; readonly args: unknown }
  | { readonly ok: false; readonly unknownTool: boolean; readonly issues: ValidationIssue[] };

/** Checks a proposed call against a registry: known tool, offered to this caller, arguments valid. */
export function checkToolCall(registry: ToolRegistry, tool: string, args: unknown, offered?: readonly string[]): ToolCallCheck {
  const spec = Object.prototype.hasOwnProperty.call(registry, tool) ? registry[tool] : undefined;
  if (!spec || (offered && !offered.includes(tool))) {
    return { ok: false, unknownTool: true, issues: [{ field: 'tool', rule: `unknown tool ${JSON.stringify(tool)}; available: ${(offered ?? Object.keys(registry)).join(', ')}` }] };
  }
  const parsed = spec.args.safeParse(args);
  if (!parsed.success) return { ok: false, unknownTool: false, issues: issuesFrom(parsed.error).map((i) => ({ field: `args.${i.field}`, rule: i.rule })) };
  return { ok: true, spec, args: parsed.data };
}

/** The facts about a tool the policy decides on (it never sees arguments it could be argued with). */
export interface ToolFacts {
  readonly name: string;
  readonly kind: 'read' | 'write';
  readonly risk: Risk;
  readonly scope: string;
}

export function factsOf(spec: ToolSpec): ToolFacts {
  return { name: spec.name, kind: spec.kind, risk: spec.risk, scope: spec.scope };
}

/** A SQL connection or transaction, as tool implementations see it (the store's drivers implement it). */
export interface SqlQueryable {
  query<T>(text: string, params?: unknown[]): Promise<{ rows: T[] }>;
}

/** What a tool's implementation may use: the store transaction its evidence commits in, and who is calling. */
export interface ToolContext {
  /** The transaction the evidence record commits in: an effect in Governor's database is exactly-once with it. */
  readonly tx: SqlQueryable;
  readonly actor: string;
  /** `workflowId/stepId`: pass it to a downstream system (an `Idempotency-Key` header, a Message-ID) so it dedupes. */
  readonly idempotencyKey: string;
  readonly workflowId: string;
}

/** A declared tool and the code that runs it on a worker. */
export interface ToolImplementation<A = unknown, R = unknown> {
  readonly spec: ToolSpec<A, R>;
  execute(args: A, ctx: ToolContext): Promise<{ readonly receiptId: string | null; readonly result: R }>;
}

/** Any implemented tool, whatever its types: what a worker's tool list holds. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a heterogeneous list; each tool's zod schemas check it at run time
export type AnyToolImplementation = ToolImplementation<any, any>;

/**
 * Pairs a declaration with its implementation, for the worker's tool registry (`createActivities({ tools })`).
 * Pure, so a tool's one file (declaration and implementation) can be imported by workflows, which use the
 * declaration, and by the worker, which runs the implementation; keep worker-only libraries out of such a file, or
 * import them inside `execute`.
 * The result is parsed against the declaration's `result` schema before it is recorded, so callers get what the
 * declaration promises.
 */
export function implementTool<A, R>(spec: ToolSpec<A, R>, execute: ToolImplementation<A, R>['execute']): ToolImplementation<A, R> {
  return { spec, execute };
}
