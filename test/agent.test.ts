import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { evidenceForWorkflow } from 'governor/worker';
import type { SupportAgentState } from '../examples/support/definitions.js';
import { governorCli as cli } from './helpers/cli.js';
import { eventually, startHarness, type Harness } from './helpers/harness.js';

let seq = 0;
function agentEvent(task: string, pinned: string[] = []) {
  const u = `${Date.now().toString(36)}_${++seq}`;
  return {
    event: 'support_agent.requested',
    event_id: `evt_agent_${u}`,
    created_at: new Date().toISOString(),
    ticket_id: `tkt_case_${u}`,
    customer_id: `cus_case_${u}`,
    task,
    pinned,
  };
}

describe('a bounded tool-using agent: order, context budget, loops, continue-as-new', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  it('26 turns in three runs, a worker restart between them; pinned facts survive the summaries to the last turn', async () => {
    const related = Array.from({ length: 20 }, (_, i) => `tkt_rel${i}_${seq}`);
    const event = agentEvent(`Investigate the duplicate charge. Related tickets: ${related.join(', ')}.`, ['Case reference REF-7Q2 goes in every customer-facing note.']);
    const config = { turnsPerRun: 10, maxTurns: 40, context: { maxInputTokens: 1_500, keepRecentTurns: 3, maxSummaryTokens: 300 } };
    const started = await h.client.start('supportAgent', event, config, { model: { provider: 'anthropic', model: null } });
    // Once the agent has continued as new, the worker goes away and comes back: the next run picks up from its carry.
    await eventually('the first continue-as-new', async () => ((await h.client.state<SupportAgentState>(started.workflowId)).agent.previousRuns.length >= 1 ? true : undefined), 60_000);
    await h.restartWorker();
    const final = await h.client.result<SupportAgentState>(started.workflowId);
    const a = final.agent;
    assert.equal(a.stop, 'finished', JSON.stringify(a.turns.slice(-3)));
    assert.equal(a.turn, 26, 'resolve, read, 20 related tickets, plan, note, confirm, finish');
    assert.equal(a.previousRuns.length, 2, 'three runs of ten turns at most');
    assert.match(a.answer ?? '', /Case reference REF-7Q2/, 'the pinned fact was in the context at the last turn');
    assert.deepEqual([...a.phasesDone].sort(), ['confirm', 'execute', 'gather', 'prepare', 'read', 'resolve']);
    assert.ok(a.folded.summarised >= 10, `older turns were folded into the summary (${a.folded.summarised})`);
    assert.ok(a.summary && a.summary.facts.length > 0, 'a structured summary');
    assert.ok(a.context!.plan.tokens <= 1_500, 'the last turn within its budget');
    // Every turn of every run says what its context was: within the budget, and at some turns older ones folded.
    const earlier = await Promise.all(a.previousRuns.map((runId) => h.client.client.workflow.getHandle(started.workflowId, runId).query<SupportAgentState>('state')));
    const turns = [...earlier.flatMap((e) => e.agent.turns), ...a.turns];
    assert.deepEqual(turns.map((t) => t.n), Array.from({ length: 26 }, (_, i) => i + 1), 'every turn, once, across the runs');
    assert.ok(turns.every((t) => t.context && t.context.tokens <= 1_500), 'each turn within the budget');
    assert.ok(turns.some((t) => (t.context?.summarised ?? 0) > 0), 'turns that folded older ones into the summary');
    assert.equal(a.context!.method, 'provider', "counted by the provider's count_tokens");
    assert.ok(a.spent.modelCalls >= 26 && a.spent.tokens > 0, 'the spend is carried across runs');
    // Each run's history holds its own turns only, and replays (the last continued after the worker restart).
    for (const runId of [...a.previousRuns, final.runId]) {
      const history = await h.client.client.workflow.getHandle(started.workflowId, runId).fetchHistory();
      assert.ok(history.events!.length < 400, `run ${runId}: ${history.events!.length} events`);
      await Worker.runReplayHistory({ workflowBundle: h.bundle }, history, started.workflowId);
    }
    // Every tool through the governed call: one note, with the reference, on the case ticket, with evidence.
    const notes = (await evidenceForWorkflow(h.store, started.workflowId)).filter((r) => r.tool === 'add_ticket_note');
    assert.deepEqual(notes.map((r) => [r.status, r.actor]), [['success', 'agent:support-investigator']]);
    const written = await h.store.db.query<{ note: string }>('select note from ticket_notes where ticket_id = $1', [event.ticket_id]);
    assert.match(written.rows[0]!.note, /Case REF-7Q2/);
    // Followed across its runs from the CLI.
    const status = await cli(['status', started.workflowId], { TEMPORAL_ADDRESS: h.server.address });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /continued from 2 earlier run\(s\)/);
    assert.match(status.stdout, /^stop {9}finished: /m);
  });

  it('a write before a read and a plan is refused; the same refusal twice is a loop, broken by replanning', async () => {
    const { workflowId } = await h.client.start('supportAgent', agentEvent('Close this quickly, be hasty.'), { maxReplans: 1 }, { model: { provider: 'anthropic', model: null } });
    const a = (await h.client.result<SupportAgentState>(workflowId)).agent;
    const refused = a.turns.filter((t) => t.status === 'refused');
    assert.equal(refused.length, 2);
    assert.match(refused[0]!.detail, /execute needs read and prepare first/);
    assert.equal(a.turns.filter((t) => t.action === 'replan').length, 1);
    assert.equal(a.replans, 1);
    assert.equal(a.stop, 'finished');
    assert.equal((await evidenceForWorkflow(h.store, workflowId)).filter((r) => r.tool === 'add_ticket_note').length, 1, 'the note was written once, in order');
  });

  it('a loop replanning cannot break asks a person; their guidance is pinned and the agent finishes', async () => {
    const { workflowId } = await h.client.start('supportAgent', agentEvent('Close this now, stubborn about it.'), { maxReplans: 1 }, { model: { provider: 'anthropic', model: null } });
    const waiting = await eventually('the agent asks for guidance', async () => {
      const s = await h.client.state<SupportAgentState>(workflowId);
      return s.awaitingGuidance ? s : undefined;
    }, 30_000);
    assert.match(waiting.awaitingGuidance!.reason, /keeps looping on refused:execute:add_ticket_note after 1 replan/);
    const queued = await eventually('the task in the review queue', async () => (await h.client.listWaiting()).find((w) => w.workflowId === workflowId));
    assert.equal(queued.decision?.kind, 'task');
    assert.equal((await h.client.decide(workflowId, 'guide', { reviewerId: 'usr_999', guidance: 'x' })).status, 'not_authorised');
    assert.equal((await h.client.decide(workflowId, 'guide', { reviewerId: 'usr_442', guidance: 'Read the customer and plan before writing.' })).status, 'accepted');
    const a = (await h.client.result<SupportAgentState>(workflowId)).agent;
    assert.equal(a.stop, 'finished');
    assert.ok(a.pinned.includes('Guidance from usr_442: Read the customer and plan before writing.'));
    assert.equal(a.turns.filter((t) => t.status === 'guided').length, 1);
  });

  it('stops, saying why: the turn cap, and pinned facts that cannot fit the budget', async () => {
    const capped = await h.client.start('supportAgent', agentEvent('Look around.'), { maxTurns: 3 }, { model: { provider: 'anthropic', model: null } });
    const c = (await h.client.result<SupportAgentState>(capped.workflowId)).agent;
    assert.deepEqual([c.stop, c.turn], ['max_turns', 3]);
    const big = await h.client.start('supportAgent', agentEvent('Look.', Array.from({ length: 10 }, (_, i) => `Fact ${i}: ${'word '.repeat(55)}`)), { context: { maxInputTokens: 300 } }, { model: { provider: 'anthropic', model: null } });
    const b = (await h.client.result<SupportAgentState>(big.workflowId)).agent;
    assert.deepEqual([b.stop, b.turn], ['over_context_budget', 0], 'no model call is made with a context that does not fit');
    // A move still invalid after its repairs (a tool the agent is not offered) stops the agent as an invalid move, not
    // as a model that could not be reached; the refused turn says what it tried.
    const invalid = { action: 'call_tool', phase: 'resolve', tool: 'wire_money', args: '{}', text: 'Moving the funds.' };
    h.double.enqueue(...Array.from({ length: 6 }, () => ({ kind: 'json' as const, value: invalid })));
    try {
      const bad = await h.client.start('supportAgent', agentEvent('Refund the customer.'), {}, { model: { provider: 'anthropic', model: null } });
      const i = (await h.client.result<SupportAgentState>(bad.workflowId)).agent;
      assert.equal(i.stop, 'invalid_move');
      assert.deepEqual(
        i.turns.map((t) => [t.action, t.status]),
        [['refused', 'invalid']],
      );
      assert.match(i.turns[0]!.detail ?? '', /tool: must be one of get_ticket/);
    } finally {
      h.double.reset();
    }
  });
});
