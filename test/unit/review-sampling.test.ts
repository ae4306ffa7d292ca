import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { issuesFrom } from '../../contracts/issues.js';
import { defineReviewSampling, ReviewSampling, routeForReview, samplingDraw } from '../../contracts/review.js';
import { splitPoint } from '../../contracts/prompts.js';
import { SUPPORT_REVIEW_SAMPLING, TriageConfig } from '../../examples/support/contracts/triage.js';
import { openStore } from '../../activities/store.js';
import { gradeRun, listReviewRecords, listToGrade, queueForGrading, recordReview, ReviewInputInvalid } from '../../activities/reviews.js';

const support = ReviewSampling.parse(SUPPORT_REVIEW_SAMPLING);
const output = (category: string, reason = 'Mostly about it.') => ({ category, urgency: 'low', confidence: 0.93, reason });
const keys = Array.from({ length: 20_000 }, (_, i) => `triage/evt_${(5_000_000 + i).toString(36)}`);

describe('review sampling policy (unit)', () => {
  it('names the field and the rule of every mistake', () => {
    const bad = ReviewSampling.safeParse({
      highStakes: [{ field: 'category', in: [] }],
      regulated: [{ when: [{ field: 'category', in: ['billing'] }], scans: [{ name: 'card', pattern: '(\\d+', fields: ['reason'] }] }, { when: [{ field: 'category', in: ['x'] }], scans: [] }],
      gradeRate: 0.2,
    });
    assert.ok(!bad.success);
    const issues = issuesFrom(bad.error);
    const rule = (field: string) => issues.find((i) => i.field === field)?.rule;
    assert.equal(rule('highStakes.0.in'), 'needs at least one value');
    assert.equal(rule('regulated.0.scans.0.pattern'), 'must compile as a JavaScript regular expression (flags i and u)');
    assert.equal(rule('regulated.1.scans'), 'needs at least one scan');
    assert.equal(rule('gradeRate'), 'must be at most 0.05');
    assert.throws(() => defineReviewSampling({ gradeRate: 0.001 }), /^Error: invalid review sampling: gradeRate: must be at least 0.01$/);
    assert.deepEqual(ReviewSampling.parse({}), { highStakes: [], regulated: [], gradeRate: 0.02 });
  });

  it('support triage carries the support default, and refuses a bad one at the boundary', () => {
    assert.deepEqual(TriageConfig.parse({}).sampling, support);
    const refused = TriageConfig.safeParse({ sampling: { gradeRate: 0.5 } });
    assert.ok(!refused.success);
    assert.deepEqual(issuesFrom(refused.error), [{ field: 'sampling.gradeRate', rule: 'must be at most 0.05' }]);
  });

  it('routes high stakes to a person, flagged regulated output to a person, the rest on its own', () => {
    const key = 'triage/evt_route';
    const account = routeForReview(support, { runKey: key, output: output('account') });
    assert.deepEqual([account.route, account.highStakes, account.graded], ['human', true, false]);
    assert.match(account.reason, /high stakes: category in \[account\]/);

    const card = routeForReview(support, { runKey: key, output: output('billing', 'Customer quoted card 4111 1111 1111 1111 in the ticket.') });
    assert.equal(card.route, 'scan_flagged');
    assert.deepEqual(card.scans, [
      { name: 'card_number', flagged: true, fields: ['reason'] },
      { name: 'refund_promise', flagged: false, fields: [] },
    ]);
    const refund = routeForReview(support, { runKey: key, output: output('billing', 'Charged twice; we will refund the second charge today.') });
    assert.equal(refund.route, 'scan_flagged');
    assert.match(refund.reason, /refund_promise \(reason\)/);

    const plain = routeForReview(support, { runKey: key, output: output('billing', 'Mostly about billing, with signs of money lost.') });
    assert.deepEqual([plain.route, plain.scans.every((s) => !s.flagged), plain.scans.length], ['auto', true, 2]);
    const routine = routeForReview(support, { runKey: key, output: output('bug') });
    assert.deepEqual([routine.route, routine.scans], ['auto', []]);
    // A short reference number or a refund merely mentioned is not flagged.
    assert.equal(routeForReview(support, { runKey: key, output: output('billing', 'Asks about refund 12345 status.') }).route, 'auto');
    assert.equal(routeForReview(support, { runKey: key, output: null }).route, 'auto');
  });

  it('draws the same number for the same run key, always, independent of the rollout split', () => {
    for (const key of keys.slice(0, 200)) {
      assert.equal(samplingDraw(key), samplingDraw(key));
      const r = routeForReview(support, { runKey: key, output: output('bug') });
      assert.equal(r.draw, samplingDraw(key));
      assert.equal(r.graded, r.draw < 0.02);
      assert.ok(r.draw >= 0 && r.draw < 1);
    }
    // Fixed forever: a changed hash would re-draw every run's grading on the next deploy.
    assert.equal(samplingDraw('triage/evt_fixed'), samplingDraw('triage/evt_fixed'));
    assert.equal(samplingDraw('triage/evt_fixed').toFixed(10), splitPoint('review-sampling:triage/evt_fixed').toFixed(10));
    // Graded runs are not concentrated in a rollout's share of the same keys.
    const graded = keys.filter((k) => samplingDraw(k) < 0.05);
    const inHalf = graded.filter((k) => splitPoint(k) < 0.5).length / graded.length;
    assert.ok(Math.abs(inHalf - 0.5) < 0.08, `graded runs in a 50 % rollout share: ${inHalf}`);
  });

  it('grades a share of routine runs close to the rate, over many synthetic keys', () => {
    for (const gradeRate of [0.01, 0.02, 0.03, 0.05]) {
      const policy = ReviewSampling.parse({ gradeRate });
      const share = keys.filter((runKey) => routeForReview(policy, { runKey, output: output('bug') }).graded).length / keys.length;
      assert.ok(Math.abs(share - gradeRate) < gradeRate * 0.2, `rate ${gradeRate}: graded ${share}`);
    }
    // Nothing a person saw first is graded, whatever its draw.
    const drawn = keys.find((k) => samplingDraw(k) < 0.02)!;
    assert.equal(routeForReview(support, { runKey: drawn, output: output('account') }).graded, false);
    assert.equal(routeForReview(support, { runKey: drawn, output: output('bug') }).graded, true);
  });
});

describe('review store (unit, embedded store)', () => {
  it('validates at the boundary, queues once, grades once, records once per run and kind', async () => {
    const store = await openStore();
    try {
      const row = { workflowId: 'triage/u1', runId: 'r1', workflowType: 'supportTicketTriage', output: output('bug'), input: { subject: 's', body: 'b' }, promptVersion: 'p@1', draw: 0.01, rate: 0.02 };
      await assert.rejects(queueForGrading(store, { ...row, draw: 1.5 }), (err: Error) => err instanceof ReviewInputInvalid && /^invalid grading row: draw: must be in \[0, 1\)$/.test(err.message));
      await assert.rejects(queueForGrading(store, { ...row, workflowId: ' ' }), /workflowId: is required/);
      assert.deepEqual(await listToGrade(store), [], 'nothing written on bad input');
      assert.equal(await queueForGrading(store, row), true);
      assert.equal(await queueForGrading(store, row), false, 'a second run of the activity queues nothing');
      assert.deepEqual((await listToGrade(store)).map((i) => [i.workflowId, i.gradedAt]), [['triage/u1', null]]);
      await assert.rejects(listToGrade(store, { limit: 10_000 }), /limit: must be at most 500/);

      await assert.rejects(gradeRun(store, { workflowId: 'triage/u1', reviewer: 'usr_1', verdict: 'correct', corrected: { category: 'x' } }), /corrected: only an incorrect grade carries a corrected output/);
      await assert.rejects(gradeRun(store, { workflowId: 'triage/u1', reviewer: 'usr_1', verdict: 'maybe' as 'correct' }), /verdict: /);
      assert.deepEqual(await gradeRun(store, { workflowId: 'triage/none', reviewer: 'usr_1', verdict: 'correct' }), { status: 'not_found' });
      const first = await gradeRun(store, { workflowId: 'triage/u1', reviewer: 'usr_1', verdict: 'incorrect', corrected: { category: 'sales', urgency: 'low' }, reason: 'pricing' });
      assert.equal(first.status, 'accepted');
      const second = await gradeRun(store, { workflowId: 'triage/u1', reviewer: 'usr_2', verdict: 'correct' });
      assert.equal(second.status, 'already_graded');
      assert.equal(second.status === 'already_graded' && second.by, 'usr_1');
      assert.deepEqual(await listToGrade(store), []);

      const correction = { kind: 'correction' as const, workflowId: 'triage/u2', runId: 'r2', workflowType: 'supportTicketTriage', original: output('other'), corrected: { category: 'account', urgency: 'high' }, verdict: 'corrected' as const, reason: 'blocked', reviewer: 'usr_442', promptVersion: 'p@1' };
      await assert.rejects(recordReview(store, { ...correction, verdict: 'correct' as 'corrected' }), /verdict: /);
      assert.equal((await recordReview(store, correction)).created, true);
      const again = await recordReview(store, { ...correction, reason: 'changed my mind' });
      assert.deepEqual([again.created, again.record.reason], [false, 'blocked']);
      const all = await listReviewRecords(store);
      assert.deepEqual(all.map((r) => [r.kind, r.workflowId, r.verdict]), [['grade', 'triage/u1', 'incorrect'], ['correction', 'triage/u2', 'corrected']]);
      assert.deepEqual(all[0]!.input, { subject: 's', body: 'b' }, 'the grade carries the queued input');
      assert.deepEqual((await listReviewRecords(store, { kind: 'correction' })).map((r) => r.workflowId), ['triage/u2']);
      assert.deepEqual(await listReviewRecords(store, { since: new Date(Date.now() + 60_000) }), []);
      await assert.rejects(listReviewRecords(store, { since: 'yesterday' }), /since: /);
    } finally {
      await store.close();
    }
  });
});
