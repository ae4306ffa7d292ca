import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { Budgets, type EvidenceRecord } from '../../contracts/index.js';
import { FAILURES, failureRow, nonRetryableTypes, retryableFailure, terminalFailure } from '../../contracts/failures.js';
import { evaluatePolicy, Policy } from '../../contracts/policy.js';
import { defineTool, factsOf, READ_PROFILE } from '../../contracts/tools.js';
import { charge, costOf, emptyLedger, exhausted } from '../../workflows/ledger.js';
import { summarizeFromEvidence } from '../../workflows/summary.js';
import { validateOutput } from '../../workflows/validate.js';

const budgets = Budgets.parse({ maxUsd: 0.01, maxTokens: 1_000, maxModelCalls: 2, prices: { 'tiny-model': { input: 1, output: 2 } } });

describe('ledger', () => {
  it('charges list prices per million tokens, records cache hits as free, and says which bound is spent', () => {
    const ledger = emptyLedger();
    assert.equal(costOf('tiny-model', { inputTokens: 1_000_000, outputTokens: 0 }, budgets), 1);
    charge(ledger, 'classify', { provider: 'anthropic', model: 'tiny-model' }, { inputTokens: 100, outputTokens: 50 }, budgets);
    charge(ledger, 'classify', { provider: 'anthropic', model: 'tiny-model' }, { inputTokens: 100, outputTokens: 50 }, budgets, true);
    assert.deepEqual([ledger.modelCalls, ledger.cacheHits, ledger.inputTokens, ledger.outputTokens], [1, 1, 100, 50]);
    assert.equal(ledger.usd, (100 * 1 + 50 * 2) / 1_000_000);
    assert.equal(exhausted(ledger, budgets, 0, 60_000), null);
    charge(ledger, 'classify', { provider: 'anthropic', model: 'tiny-model' }, { inputTokens: 10, outputTokens: 10 }, budgets);
    assert.match(exhausted(ledger, budgets, 0, 60_000) ?? '', /made 2 of 2 model calls/);
    assert.match(exhausted(emptyLedger(), budgets, 61_000, 60_000) ?? '', /wall time/);
  });

  it('charges an unlisted model above every listed one, so it never slips under a budget', () => {
    assert.ok(costOf('no-such-model', { inputTokens: 1000, outputTokens: 1000 }, budgets) > costOf('claude-haiku-4-5', { inputTokens: 1000, outputTokens: 1000 }, budgets));
  });
});

describe('validation', () => {
  const schema = z.strictObject({ category: z.enum(['billing', 'bug']), reason: z.string() });
  const rules = [{ id: 'reason', check: (v: { reason: string }) => (v.reason.trim() ? null : { field: 'reason', rule: 'must explain' }) }];
  it('schema first, then business rules; each issue names its field', () => {
    assert.deepEqual(validateOutput(schema, rules, { category: 'billing', reason: 'x' }, null), { ok: true, value: { category: 'billing', reason: 'x' } });
    const wrong = validateOutput(schema, rules, { category: 'sales', reason: 'x', extra: 1 }, null);
    assert.equal(wrong.ok, false);
    assert.deepEqual(wrong.ok ? [] : wrong.issues.map((i) => i.field).sort(), ['(root)', 'category'].sort());
    assert.deepEqual(validateOutput(schema, rules, { category: 'bug', reason: ' ' }, null), { ok: false, issues: [{ field: 'reason', rule: 'must explain' }] });
    assert.deepEqual(validateOutput(schema, rules, null, 'the reply was empty'), { ok: false, issues: [{ field: '(root)', rule: 'the reply was empty' }] });
  });
});

describe('permission policy', () => {
  const refund = defineTool({ name: 'refund', description: 'r', kind: 'write', args: z.object({}), result: z.object({}), resources: () => [], risk: 'high', scope: 'money', profile: READ_PROFILE });
  const note = defineTool({ name: 'note', description: 'n', kind: 'write', args: z.object({}), result: z.object({}), resources: () => [], risk: 'low', scope: 'notes', profile: READ_PROFILE });
  const policy = Policy.parse({
    version: 'p1',
    actors: { 'agent:a': { scopes: ['money', 'notes'], workflows: ['wf'] } },
    approval: { riskAtOrAbove: 'high', approvers: ['usr_1'] },
    deny: [{ id: 'no-notes-friday', tool: 'note', actor: 'agent:b', reason: 'frozen' }],
  });
  it('denies by default, checks the calling workflow, holds risky calls for the named approvers', () => {
    assert.equal(evaluatePolicy(policy, 'agent:a', factsOf(note), 'note', 'wf').decision, 'allow');
    const held = evaluatePolicy(policy, 'agent:a', factsOf(refund), 'refund', 'wf');
    assert.deepEqual([held.decision, held.rule, held.approvers], ['require_approval', 'approval:risk>=high', ['usr_1']]);
    assert.equal(evaluatePolicy(policy, 'agent:a', factsOf(note), 'note', 'other').rule, 'actor-not-for-workflow');
    assert.equal(evaluatePolicy(policy, 'agent:z', factsOf(note), 'note', 'wf').rule, 'actor-unknown');
    assert.equal(evaluatePolicy(policy, 'agent:a', null, 'drop', 'wf').rule, 'tool-unknown');
  });
  it('a policy file with a mistake is refused, naming the field', () => {
    const bad = Policy.safeParse({ version: 'p', actors: { a: { scopes: [], workflows: [] } } });
    assert.equal(bad.success, false);
    assert.match(JSON.stringify(bad.error?.issues), /name at least one workflow type/);
  });
});

describe('failure table', () => {
  it('every decision derives from the rows: retries, breaker health, and the helpers refuse the wrong kind', () => {
    assert.ok(nonRetryableTypes('tool').every((t) => !FAILURES[t].retries));
    assert.ok(nonRetryableTypes('model').includes('CircuitOpen'), 'a model step falls back at once');
    assert.ok(!nonRetryableTypes('tool').includes('CircuitOpen'), 'a tool waits for the probe');
    assert.equal(failureRow('SomethingNew').health, true, 'an unclassified error counts as ill health');
    assert.equal(terminalFailure('PermissionDenied', 'no').nonRetryable, true);
    assert.equal(retryableFailure('RateLimited', 'slow down', { nextRetryDelay: 3000 }).nonRetryable, false);
    assert.throws(() => terminalFailure('RateLimited', 'x'), /use retryableFailure/);
    assert.throws(() => retryableFailure('PermissionDenied', 'x'), /use terminalFailure/);
  });
});

describe('summary from evidence', () => {
  const record = (tool: string, status: EvidenceRecord['status'], id: string): EvidenceRecord =>
    ({ evidenceId: id, tool, status, stepId: `${tool}#1`, permission: 'granted', approver: null, receiptId: status === 'success' ? `r_${id}` : null, policyVersion: 'p', policyRule: 'r', detail: status === 'success' ? null : 'boom' }) as unknown as EvidenceRecord;
  it('an action is done only with a success record; a claim without one is unsupported', () => {
    const summary = summarizeFromEvidence([record('send_email', 'failed', 'ev_1'), record('note', 'success', 'ev_2')], {
      writesOnly: new Set(['send_email', 'note', 'refund']),
      expected: ['send_email', 'refund'],
      modelClaim: 'I emailed the team and noted the ticket.',
      given: ['ev_1', 'ev_2'],
      claims: [
        { claim: 'an email was sent', pattern: /emailed/, tools: ['send_email'] },
        { claim: 'a note was added', pattern: /noted/, tools: ['note'] },
      ],
    });
    assert.deepEqual(summary.actions.map((a) => `${a.tool}:${a.status}`), ['send_email:not_done', 'note:done', 'refund:not_done']);
    assert.deepEqual(summary.claims.map((c) => `${c.claim}:${c.supported}`), ['an email was sent:false', 'a note was added:true']);
    assert.ok(summary.lines.some((l) => /Unsupported model claim: an email was sent/.test(l)));
  });
});
