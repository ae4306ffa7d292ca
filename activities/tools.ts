import type { ToolContext, ToolImplementation } from '../contracts/tools.js';
import type { EffectResult } from './evidence.js';

export { implementTool, type AnyToolImplementation, type ToolContext, type ToolImplementation } from '../contracts/tools.js';

/** Runs an implementation and parses its result against the declaration: a tool cannot return what it did not declare. */
export async function runImplementation(tool: ToolImplementation, args: unknown, ctx: ToolContext): Promise<EffectResult> {
  const done = await tool.execute(args, ctx);
  return { receiptId: done.receiptId, result: tool.spec.result.parse(done.result) };
}
