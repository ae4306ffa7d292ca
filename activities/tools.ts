import type { ToolSpec } from '../contracts/tools.js';
import type { EffectResult } from './evidence.js';
import type { SqlQueryable } from './sql.js';

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
 * The result is parsed against the declaration's `result` schema before it is recorded, so callers get what the
 * declaration promises.
 */
export function implementTool<A, R>(spec: ToolSpec<A, R>, execute: ToolImplementation<A, R>['execute']): ToolImplementation<A, R> {
  return { spec, execute };
}

/** Runs an implementation and parses its result against the declaration: a tool cannot return what it did not declare. */
export async function runImplementation(tool: ToolImplementation, args: unknown, ctx: ToolContext): Promise<EffectResult> {
  const done = await tool.execute(args, ctx);
  return { receiptId: done.receiptId, result: tool.spec.result.parse(done.result) };
}
