/**
 * `npm run bench:agent`: the history economy of a long agent, on the model double.
 *
 *  (a) The bytes each turn adds to history over 40 turns of one run (no continue-as-new), with the claim check
 *      (payloads above 1 KiB kept in the store) and without it, side by side: turn 40 ÷ turn 4.
 *  (b) A `--turns`-turn agent (default 1,000) with the claim check, continuing as new every 20 turns: the largest
 *      run's history (bytes and events), and the final answer compared with the same agent without the claim check.
 *
 *   npm run bench:agent -- [--turns 1000]
 */
import { parseArgs } from 'node:util';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import proto from '@temporalio/proto';
import { ClaimCheckCodec } from 'governor/worker';
import type { SupportAgentState } from '../examples/support/definitions.js';
import { startHarness, type Harness } from '../examples/support/harness.js';

const { values } = parseArgs({ options: { turns: { type: 'string', default: '1000' } } });
const longTurns = Number(values.turns);
const MODEL = { model: { provider: 'anthropic', model: null } };
let seq = 0;

function agentEvent(related: number) {
  const u = `${Date.now().toString(36)}_${++seq}`;
  return {
    event: 'support_agent.requested',
    event_id: `evt_bench_${u}`,
    created_at: new Date().toISOString(),
    ticket_id: `tkt_bench_${u}`,
    customer_id: `cus_bench_${u}`,
    task: `Investigate the duplicate charge. Related tickets: ${related} numbered from tkt_b${u}_0.`,
    pinned: ['Case reference REF-BENCH goes in every customer-facing note.'],
  };
}

/** Bytes of history each turn added: events from one move's model call to the next, by the turn the call names. */
async function bytesPerTurn(h: Harness, workflowId: string, codec: ClaimCheckCodec | null): Promise<Map<number, number>> {
  const history = await h.client.client.workflow.getHandle(workflowId).fetchHistory();
  const perTurn = new Map<number, number>();
  let turn = 0;
  for (const event of history.events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name === 'callModel') {
      let payloads = (scheduled.input?.payloads ?? []) as Payload[];
      if (codec) payloads = await codec.decode(payloads);
      const req = defaultPayloadConverter.fromPayload<{ prompt: { name: string }; messages: Array<{ content: string }> }>(payloads[0]!);
      const n = /Turn (\d+): choose the next move\./.exec(req.messages.at(-1)?.content ?? '')?.[1];
      if (req.prompt.name === 'support_agent_move' && n) turn = Number(n);
    }
    const size = proto.temporal.api.history.v1.HistoryEvent.encode(event).finish().length;
    perTurn.set(turn, (perTurn.get(turn) ?? 0) + size);
  }
  return perTurn;
}

async function fortyTurns(h: Harness, codec: ClaimCheckCodec | null): Promise<Map<number, number>> {
  // One run (no continue-as-new) and a context budget the 40 turns fit in: what grows is only what history keeps.
  const { workflowId } = await h.client.start('supportAgent', agentEvent(40), { turnsPerRun: 200, maxTurns: 60, context: { maxInputTokens: 60_000 }, budgets: { maxModelCalls: 50, maxTokens: 2_000_000, maxUsd: 10 } }, MODEL);
  const state = await h.client.result<SupportAgentState>(workflowId);
  if (state.agent.stop !== 'finished') throw new Error(`the 40-turn agent stopped: ${state.agent.stop}`);
  return bytesPerTurn(h, workflowId, codec);
}

async function longAgent(h: Harness, turns: number): Promise<{ answer: string | null; runs: number; maxBytes: number; maxEvents: number; seconds: number; stop: string | null }> {
  const t0 = performance.now();
  const { workflowId } = await h.client.start('supportAgent', agentEvent(turns - 6), { turnsPerRun: 20, maxTurns: turns + 10, maxUsd: 1_000, maxTokens: 1_000_000_000 }, MODEL);
  const state = await h.client.result<SupportAgentState>(workflowId);
  let maxBytes = 0;
  let maxEvents = 0;
  for (const runId of [...state.agent.previousRuns, state.runId]) {
    const d = await h.client.client.workflow.getHandle(workflowId, runId).describe();
    maxBytes = Math.max(maxBytes, d.historySize ?? 0);
    maxEvents = Math.max(maxEvents, d.historyLength);
  }
  return { answer: state.agent.answer?.replace(/tkt_\w+/g, 'tkt') ?? null, runs: state.agent.previousRuns.length + 1, maxBytes, maxEvents, seconds: (performance.now() - t0) / 1000, stop: state.agent.stop };
}

const withCheck = await startHarness({ claimCheckBytes: 1024, modelTimeoutMs: 30_000 });
const without = await startHarness({ modelTimeoutMs: 30_000 });
try {
  const codec = new ClaimCheckCodec({ store: withCheck.store, thresholdBytes: 1024 });
  const [a, b] = [await fortyTurns(withCheck, codec), await fortyTurns(without, null)];
  process.stdout.write('(a) bytes of history added per turn, one run of 40 turns\n\nturn  claim check  without\n');
  for (let turn = 1; turn <= 40; turn++) process.stdout.write(`${String(turn).padStart(4)}  ${String(a.get(turn)).padStart(11)}  ${String(b.get(turn)).padStart(7)}\n`);
  const ratio = (m: Map<number, number>) => (m.get(40)! / m.get(4)!).toFixed(2);
  process.stdout.write(`\nturn 40 / turn 4: ${ratio(a)} with the claim check, ${ratio(b)} without\n\n`);

  const [x, y] = [await longAgent(withCheck, longTurns), await longAgent(without, longTurns)];
  process.stdout.write(`(b) a ${longTurns}-turn agent, continuing as new every 20 turns\n\n`);
  process.stdout.write(`claim check: ${x.stop} in ${x.runs} runs, ${x.seconds.toFixed(0)} s; largest run ${x.maxBytes} bytes, ${x.maxEvents} events\n`);
  process.stdout.write(`without:     ${y.stop} in ${y.runs} runs, ${y.seconds.toFixed(0)} s; largest run ${y.maxBytes} bytes, ${y.maxEvents} events\n`);
  process.stdout.write(`same final answer: ${x.answer === y.answer ? 'yes' : `NO\n  ${x.answer}\n  ${y.answer}`}\n`);
} finally {
  await withCheck.close();
  await without.close();
}
