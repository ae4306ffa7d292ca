import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pLimit from 'p-limit';
import { samplingDraw } from 'governor';
import { gradeRun, listReviewRecords, listToGrade, startMetricsServer, type MetricsServer } from 'governor/worker';
import { governorCli as cli } from './helpers/cli.js';
import { eventually, startHarness, ticketEvent, type Harness } from './helpers/harness.js';

const TRIAGE = 'supportTicketTriage';
const RATE = 0.03;
/** The offline model answers these confidently: bug (routine), account (high stakes), billing (regulated). */
const ROUTINE = { subject: 'App crashes', body: 'The app crashes every time I open it.' };
const ACCOUNT = { subject: 'Password reset', body: 'I cannot log in: my password stopped working.' };
const INVOICE = { subject: 'Invoice copy', body: 'Please send me the invoice for last month.' };
const CARD_MARK = 'please check the card number I pasted';

describe('risk-weighted review sampling on triage runs', () => {
  let h: Harness;
  let metrics: MetricsServer;
  before(async () => {
    h = await startHarness();
    metrics = await startMetricsServer(h.breakers, { store: h.store });
    // A billing answer whose reason repeats a card number: the regulated scan must catch it.
    h.double.when((req) => req.text.includes(CARD_MARK), { kind: 'json', value: { category: 'billing', urgency: 'low', confidence: 0.95, reason: 'Customer quoted card 4111 1111 1111 1111 for the invoice.' } });
  });
  after(async () => {
    await metrics?.close();
    await h?.close();
  });

  let graded: string[] = [];

  it('over 1,000 auto-applied runs, the graded share is within bounds and every graded run is queued and recorded', async () => {
    const limit = pLimit(48);
    const results = await Promise.all(
      Array.from({ length: 1000 }, () =>
        limit(async () => {
          const { workflowId } = await h.client.startTriage(ticketEvent(ROUTINE), { sampling: { gradeRate: RATE } });
          return h.client.triageResult(workflowId);
        }),
      ),
    );
    assert.ok(results.every((r) => r.outcome === 'auto_applied' && r.category === 'bug'), 'routine runs apply on their own');
    const ids = results.map((r) => r.workflowId);
    const expected = ids.filter((id) => samplingDraw(id) < RATE).sort();
    const queued = (await listToGrade(h.store, { workflowType: TRIAGE, limit: 500 })).map((i) => i.workflowId).sort();
    assert.deepEqual(queued, expected, 'exactly the runs whose draw fell under the rate are queued');
    const share = queued.length / ids.length;
    assert.ok(share >= 0.01 && share <= 0.05, `graded share ${share} within 1-5 % for rate ${RATE}`);
    graded = queued;
    for (const id of graded) {
      const s = await h.client.triageState(id);
      assert.deepEqual([s.sampling?.route, s.sampling?.graded, s.sampling?.rate], ['auto', true, RATE], id);
      assert.equal(s.outcome, 'auto_applied');
    }
    const notGraded = ids.find((id) => !graded.includes(id))!;
    assert.equal((await h.client.triageState(notGraded)).sampling?.graded, false);
  });

  it('high-stakes runs all wait for a person, none applied before a decision', async () => {
    const started = await Promise.all(Array.from({ length: 8 }, () => h.client.startTriage(ticketEvent(ACCOUNT), { reviewers: ['usr_442'] })));
    for (const { workflowId } of started) {
      const s = await eventually('the high-stakes run in review', async () => {
        const state = await h.client.triageState(workflowId);
        return state.phase === 'awaiting_review' ? state : undefined;
      });
      assert.equal(s.pendingReview?.reason, 'high_stakes');
      assert.equal(s.classification?.category, 'account');
      assert.deepEqual([s.sampling?.route, s.sampling?.highStakes], ['human', true]);
      assert.deepEqual(s.evidenceIds, [], 'nothing applied');
      assert.ok(!s.steps.some((step) => step.name === 'apply_triage_decision'));
    }
    // The drawn ones are not queued: a person sees every one of them anyway.
    const queued = new Set((await listToGrade(h.store, { limit: 500 })).map((i) => i.workflowId));
    assert.ok(started.every((s) => !queued.has(s.workflowId)));
    for (const { workflowId } of started.slice(1)) await h.client.review(workflowId, { action: 'approve', reviewerId: 'usr_442' });
    assert.equal((await h.client.triageResult(started[1]!.workflowId)).outcome, 'approved');
    const approved = await listReviewRecords(h.store, { kind: 'correction' });
    assert.ok(approved.some((r) => r.workflowId === started[1]!.workflowId && r.verdict === 'approved' && r.corrected === null && r.reviewer === 'usr_442'));

    // The first is corrected: the correction lands in review_records, in the structured form.
    const corrected = started[0]!.workflowId;
    await h.client.review(corrected, { action: 'correct', reviewerId: 'usr_442', corrected: { category: 'account', urgency: 'high' }, note: 'locked out is urgent' });
    assert.equal((await h.client.triageResult(corrected)).outcome, 'corrected');
    const record = (await listReviewRecords(h.store, { kind: 'correction' })).find((r) => r.workflowId === corrected);
    assert.ok(record);
    assert.equal(record.verdict, 'corrected');
    assert.deepEqual(record.corrected, { category: 'account', urgency: 'high' });
    assert.deepEqual([(record.original as { category: string }).category, record.reason, record.reviewer, record.workflowType], ['account', 'locked out is urgent', 'usr_442', TRIAGE]);
    assert.match(record.promptVersion, /^support_ticket_classifier@/);
  });

  it('a regulated output a scan flags waits for a person; one that passes its scans is applied', async () => {
    const flagged = await h.client.startTriage(ticketEvent({ ...INVOICE, body: `${INVOICE.body} ${CARD_MARK}` }), { reviewers: ['usr_442'] });
    const s = await eventually('the flagged run in review', async () => {
      const state = await h.client.triageState(flagged.workflowId);
      return state.phase === 'awaiting_review' ? state : undefined;
    });
    assert.equal(s.pendingReview?.reason, 'scan_flagged');
    assert.match(s.pendingReview?.detail ?? '', /card_number \(reason\)/);
    assert.deepEqual(s.evidenceIds, []);
    await h.client.review(flagged.workflowId, { action: 'reject', reviewerId: 'usr_442', note: 'card number in the notes' });
    assert.equal((await h.client.triageResult(flagged.workflowId)).outcome, 'rejected');
    const rejected = (await listReviewRecords(h.store, { kind: 'correction' })).find((r) => r.workflowId === flagged.workflowId);
    assert.deepEqual([rejected?.verdict, rejected?.corrected], ['rejected', null]);

    const clean = await h.client.triageResult((await h.client.startTriage(ticketEvent(INVOICE))).workflowId);
    assert.deepEqual([clean.outcome, clean.category, clean.reviewReason], ['auto_applied', 'billing', null]);
    assert.equal(clean.evidenceIds.length, 1, 'applied, with evidence');
    const state = await h.client.triageState(clean.workflowId);
    assert.deepEqual(state.sampling?.scans.map((x) => [x.name, x.flagged]), [['card_number', false], ['refund_promise', false]]);
  });

  it('two graders at once: one accepted, the other told who graded it', async () => {
    const [a, b] = graded;
    assert.ok(a && b, 'the sample has runs to grade');
    const both = await Promise.all([
      gradeRun(h.store, { workflowId: a, reviewer: 'usr_ann', verdict: 'incorrect', corrected: { category: 'how_to', urgency: 'low' }, reason: 'asks how to reinstall' }),
      gradeRun(h.store, { workflowId: a, reviewer: 'usr_bob', verdict: 'correct' }),
    ]);
    const accepted = both.filter((o) => o.status === 'accepted');
    const refused = both.filter((o) => o.status === 'already_graded');
    assert.equal(accepted.length, 1);
    assert.equal(refused.length, 1);
    const winner = accepted[0]!.status === 'accepted' ? accepted[0]!.record.reviewer : '';
    assert.equal(refused[0]!.status === 'already_graded' && refused[0]!.by, winner);
    assert.equal((await gradeRun(h.store, { workflowId: b, reviewer: 'usr_ann', verdict: 'correct' })).status, 'accepted');
    assert.ok(!(await listToGrade(h.store, { limit: 500 })).some((i) => i.workflowId === a || i.workflowId === b));
    const text = await (await fetch(`${metrics.url}/metrics`)).text();
    assert.match(text, /^governor_grades_total\{workflowType="supportTicketTriage",verdict="correct"\} [1-9]/m);
  });

  it('export-corrections turns corrections and incorrect grades into eval cases, read through the worker', async () => {
    const r = await cli(['eval', 'export-corrections', '--json'], { DATABASE_URL: '', GOVERNOR_METRICS_URL: metrics.url });
    assert.equal(r.code, 0, r.stderr);
    const cases = JSON.parse(r.stdout) as Array<{ id: string; input: { subject: string; body: string }; expected: unknown; source: { kind: string; workflowId: string; original: unknown; corrected: unknown; reason: string; reviewer: string } }>;
    const correction = cases.find((c) => c.source.kind === 'correction');
    assert.ok(correction, r.stdout);
    assert.deepEqual(correction.expected, { category: 'account', urgency: 'high' });
    assert.equal(correction.input.subject, ACCOUNT.subject);
    assert.ok(correction.input.body.startsWith(ACCOUNT.body));
    assert.deepEqual(correction.source.original, { category: 'account', urgency: 'medium' });
    assert.deepEqual([correction.source.reason, correction.source.reviewer], ['locked out is urgent', 'usr_442']);
    const grades = cases.filter((c) => c.source.kind === 'grade');
    // Of the two graders, only an `incorrect` grade with labels is a case.
    assert.ok(grades.length <= 1);
    for (const g of grades) {
      assert.deepEqual(g.expected, { category: 'how_to', urgency: 'low' });
      assert.equal(g.input.subject, ROUTINE.subject);
      assert.match(g.id, /^grade-/);
    }
    assert.equal(cases.length, 1 + grades.length, 'approvals and rejections are not cases');
    const unreachable = await cli(['eval', 'export-corrections', '--json'], { DATABASE_URL: '', GOVERNOR_METRICS_URL: 'http://127.0.0.1:9' });
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /cannot reach the worker at http:\/\/127\.0\.0\.1:9/);
  });
});
