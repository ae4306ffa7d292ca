import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createLogger, installRuntime } from 'governor/worker';
import { complaintEvent, eventually, startHarness, ticketEvent, type Harness } from './helpers/harness.js';

const SECRET = 'Zanzibar Books charged my card twice';

describe('structured logs', () => {
  const lines: string[] = [];
  let h: Harness;
  before(async () => {
    // This file's process logs through pino into memory: every SDK and Governor line, as the worker writes it.
    installRuntime('INFO', createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } }));
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });
  const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

  it('each line is one JSON object; model and tool calls carry the workflow, run, step and prompt version', async () => {
    const triage = await h.client.startTriage(ticketEvent({ subject: 'Charged twice', body: SECRET }));
    await h.client.triageResult(triage.workflowId);
    const complaint = await h.client.startComplaint(complaintEvent({ body: `Third failure this month. ${SECRET}` }));
    await eventually('the complaint to settle', async () => {
      const s = await h.client.complaintState(complaint.workflowId);
      return s.phase === 'completed' || s.phase === 'awaiting_human' ? s : undefined;
    });
    await sleep(500);
    const all = records();
    const model = all.find((r) => r.msg === 'model call' && r.workflowId === triage.workflowId);
    assert.ok(model, 'a model-call line for the triage run');
    assert.equal(model.step, 'classify');
    assert.match(String(model.promptVersion), /^support_ticket_classifier@/);
    assert.equal(typeof model.runId, 'string');
    assert.equal(model.attempt, 1);
    assert.equal(model.level, 'info');
    const tool = all.find((r) => r.msg === 'tool call' && r.workflowId === complaint.workflowId && r.tool === 'get_ticket');
    assert.ok(tool, 'a tool-call line for the complaint run');
    assert.equal(tool.step, 'read_ticket#1');
    assert.equal(tool.status, 'done');
    assert.match(String(tool.evidenceId), /^ev_[0-9a-f]{16}$/);
    assert.equal(tool.permission, 'granted');
  });

  it('no ticket or complaint text reaches a log line at the default settings, and personal fields are redacted', () => {
    for (const line of lines) assert.ok(!line.includes('Zanzibar'), `leaked: ${line.slice(0, 300)}`);
    const own: string[] = [];
    createLogger({ destination: { write: (l: string) => void own.push(l) } }).info({ event: { ticket: { body: SECRET } }, args: { note: SECRET }, workflowId: 'w' }, 'passing along');
    const record = JSON.parse(own[0]!) as Record<string, unknown>;
    assert.deepEqual([record.event, record.args, record.workflowId], ['[redacted]', '[redacted]', 'w']);
  });

  it('GOVERNOR_LOG_REDACT adds paths of your own to the defaults', () => {
    const own: string[] = [];
    const previous = process.env.GOVERNOR_LOG_REDACT;
    process.env.GOVERNOR_LOG_REDACT = 'customer.email, *.iban';
    try {
      createLogger({ destination: { write: (l: string) => void own.push(l) } }).info({ customer: { email: 'a@b.c', id: 'cus_1' }, payout: { iban: 'DE00' }, body: SECRET }, 'custom');
    } finally {
      if (previous === undefined) delete process.env.GOVERNOR_LOG_REDACT;
      else process.env.GOVERNOR_LOG_REDACT = previous;
    }
    const record = JSON.parse(own[0]!) as { customer: Record<string, string>; payout: Record<string, string>; body: string };
    assert.deepEqual([record.customer.email, record.customer.id, record.payout.iban, record.body], ['[redacted]', 'cus_1', '[redacted]', '[redacted]']);
  });
});
