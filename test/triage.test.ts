import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, startHarness, ticketEvent, type Harness } from './helpers/harness';

describe('supportTicketTriage on a real Temporal dev server', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  it('happy path: urgent billing is applied, escalated, and proven by evidence', async () => {
    const { workflowId, started } = await h.client.startTriage(ticketEvent());
    assert.equal(started, true);
    const result = await h.client.result(workflowId);
    assert.equal(result.outcome, 'escalated');
    assert.equal(result.category, 'billing');
    assert.equal(result.urgency, 'high');
    assert.equal(result.evidenceIds.length, 2);
    const rows = await h.store.db.query<{ tool: string; status: string }>('select tool, status from evidence where workflow_id = $1 order by seq', [workflowId]);
    assert.deepEqual(rows.rows, [
      { tool: 'apply_triage_decision', status: 'success' },
      { tool: 'create_escalation', status: 'success' },
    ]);
    assert.equal(h.double.count({ outputName: 'classify_ticket' }), 1);
    const state = await h.client.getState(workflowId);
    assert.equal(state.phase, 'completed');
    assert.equal(state.prompt?.version, '2026-11-21.1');
    void eventually;
  });
});
