import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, ticketEvent, type Harness } from './helpers/harness.js';

describe('interactive runs ahead of batch runs on the same workers (Temporal task-queue priority)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ worker: false });
  });
  after(async () => {
    await h?.close();
  });

  it('a ticket started after a backlog of documents is picked up first', async () => {
    const u = Date.now().toString(36);
    // A backlog of batch work while no worker polls, then one ticket a customer waits on.
    const documents = [];
    for (let i = 0; i < 12; i++) {
      const event = { event: 'document.submitted', event_id: `evt_prio_${u}_${i}`, created_at: new Date().toISOString(), document_id: `doc_prio_${u}_${i}`, title: 'Backlog', text: `Paragraph ${i}. It says something about fees.` };
      documents.push((await h.client.start('documentPipeline', event)).workflowId);
    }
    const ticket = (await h.client.startTriage(ticketEvent({ subject: 'Auto top up', body: 'How do I use auto top up?' }))).workflowId;
    await h.restartWorker();
    await h.client.triageResult(ticket);
    await Promise.all(documents.map((id) => h.client.result(id)));
    // When each run's first workflow task started: the order the server handed the backlog out in.
    const firstTask = async (id: string) => {
      const history = await h.client.client.workflow.getHandle(id).fetchHistory();
      const started = history.events!.find((e) => e.workflowTaskStartedEventAttributes);
      return Number(started!.eventTime!.seconds) * 1000 + Math.floor((started!.eventTime!.nanos ?? 0) / 1e6);
    };
    const order = (await Promise.all([ticket, ...documents].map(async (id) => ({ id, at: await firstTask(id) })))).sort((a, b) => a.at - b.at);
    const rank = order.findIndex((o) => o.id === ticket);
    assert.ok(rank <= 1, `the ticket, started last, was picked up ${rank + 1}${rank === 0 ? 'st' : 'th'} of ${order.length}`);
  });
});
