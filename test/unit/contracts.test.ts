import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_TRIGGER_BYTES } from '../../contracts/trigger.js';
import { parseTriggerEvent } from '../../examples/support/contracts/ticket.js';

const event = {
  event: 'support_ticket.created',
  event_id: 'evt_unit_1',
  created_at: '2026-11-21T14:22:10Z',
  ticket: { id: 'tkt_unit_1', subject: 'Charged twice', body: 'Two charges on my card.', channel: 'email', language: 'en' },
  customer: { id: 'cus_unit_1', plan: 'pro', arr: 2400, region: 'us' },
};

describe('trigger contracts (unit)', () => {
  it('accepts a file that starts with a UTF-8 byte-order mark', () => {
    const parsed = parseTriggerEvent(`\uFEFF${JSON.stringify(event)}`);
    assert.ok(parsed.ok, parsed.ok ? '' : JSON.stringify(parsed.issues));
    assert.equal(parsed.event.event_id, 'evt_unit_1');
  });

  it('names the field and the rule, and refuses oversized or unknown events', () => {
    const missing = parseTriggerEvent({ ...event, ticket: { ...event.ticket, subject: '' } });
    assert.ok(!missing.ok);
    assert.deepEqual(missing.issues.map((i) => i.field), ['ticket.subject']);
    const unknown = parseTriggerEvent({ ...event, event: 'ticket.deleted' });
    assert.ok(!unknown.ok);
    assert.match(unknown.issues[0]!.rule, /unknown event type "ticket.deleted"/);
    const big = parseTriggerEvent(JSON.stringify({ ...event, pad: 'x'.repeat(MAX_TRIGGER_BYTES) }));
    assert.ok(!big.ok);
    assert.match(big.issues[0]!.rule, /the limit is 65536/);
    const broken = parseTriggerEvent('{"event":');
    assert.ok(!broken.ok);
    assert.match(broken.issues[0]!.rule, /not valid JSON/);
  });
});
