import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decisionPayloadIssues, MAX_DECISION_BYTES, MAX_TRIGGER_BYTES, ReviewerId } from '../../contracts/trigger.js';
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

describe('decision payloads (unit)', () => {
  it('a payload JSON cannot carry, or one past the cap, is refused naming the field; a decision-sized one passes', () => {
    assert.deepEqual(decisionPayloadIssues({ action: 'approve', reviewerId: 'usr_442' }), []);
    assert.deepEqual(decisionPayloadIssues({ action: 'approve', reviewerId: 1n }), [{ field: 'reviewerId', rule: 'is a BigInt, which JSON cannot carry: send a number or a string' }]);
    const cyclic: Record<string, unknown> = { action: 'approve' };
    cyclic.self = cyclic;
    assert.equal(decisionPayloadIssues(cyclic)[0]?.field, 'self');
    const big = { note: 'x'.repeat(MAX_DECISION_BYTES) };
    assert.deepEqual(decisionPayloadIssues(big), [{ field: '(root)', rule: `payload is ${JSON.stringify(big).length} bytes; the limit is ${MAX_DECISION_BYTES}` }]);
  });

  it('a reviewer id is 1-200 characters after trimming', () => {
    assert.equal(ReviewerId.parse('  usr_442 '), 'usr_442');
    assert.equal(ReviewerId.safeParse('   ').error?.issues[0]?.message, 'reviewerId is required');
    assert.equal(ReviewerId.safeParse('u'.repeat(201)).error?.issues[0]?.message, 'reviewerId is at most 200 characters');
  });
});
