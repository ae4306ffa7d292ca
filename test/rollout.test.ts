import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { splitPoint, type PromptRecord } from 'governor';
import { endRollout, recordEvalResult, registerPrompt, setControl, setRollout } from 'governor/worker';
import { classifierRecord } from '../examples/support/prompts/support-ticket-classifier.js';
import { governorCli as cli } from './helpers/cli.js';
import { eventually, startHarness, ticketEvent, type Harness } from './helpers/harness.js';
import { startPostgres, type PostgresServer } from './helpers/postgres.js';

const TRIAGE = 'supportTicketTriage';
const V1 = classifierRecord.version;
const v2: PromptRecord = { ...classifierRecord, version: `${V1}-c`, system: `${classifierRecord.system}\nCandidate wording: name the product area in the reason.` };
const CONFIDENT = { subject: 'Auto top up', body: 'How do I use auto top up?' };

describe('the traffic split', () => {
  it('is stable per event id and close to the share over 1,000 ids', () => {
    assert.equal(splitPoint('evt_01HY9K2P0A3'), splitPoint('evt_01HY9K2P0A3'));
    const ids = Array.from({ length: 1000 }, (_, i) => `evt_${(1_000_000 + i).toString(36)}`);
    for (const share of [0.05, 0.3, 0.5]) {
      const taken = ids.filter((id) => splitPoint(id) < share).length / ids.length;
      assert.ok(Math.abs(taken - share) < 0.04, `share ${share}: took ${taken}`);
    }
    for (const id of ids) assert.ok(splitPoint(id) >= 0 && splitPoint(id) < 1);
  });
});

describe('staged rollout of a candidate prompt', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await registerPrompt(h.store, v2, 'usr_ops');
    // Partial and full rollouts need a passing eval of the candidate (test/evals.test.ts runs real ones).
    await recordEvalResult(h.store, { name: classifierRecord.name, version: v2.version, suite: 'golden', cases: 1, metrics: [{ name: 'category accuracy', value: 1, target: 0.4, direction: 'min' as const, gated: true, unit: 'ratio' as const }], actor: 'test' });
  });
  after(async () => {
    await endRollout(h.store, { workflowType: TRIAGE, actor: 'test', reason: 'done' }).catch(() => undefined);
    await h?.close();
  });
  const rollout = (stage: 'shadow' | 'suggestion' | 'partial' | 'full', share = 1) =>
    setRollout(h.store, { workflowType: TRIAGE, promptName: classifierRecord.name, candidateVersion: v2.version, stage, share, actor: 'usr_ops', reason: `try ${stage}` });
  const sentTo = (body: string) => h.double.requests.filter((r) => r.text.includes(body)).map((r) => (r.text.includes('Candidate wording') ? 'candidate' : 'production'));

  it('shadow: both versions classify, both outputs are recorded, production decides', async () => {
    await rollout('shadow');
    const event = ticketEvent(CONFIDENT);
    const result = await h.client.triageResult((await h.client.startTriage(event)).workflowId);
    const state = await h.client.triageState(result.workflowId);
    assert.equal(result.outcome, 'auto_applied');
    assert.equal(result.prompt.version, V1, 'production decided');
    assert.deepEqual(sentTo(event.ticket.body).sort(), ['candidate', 'production']);
    assert.equal(state.shadow?.version, v2.version);
    assert.equal(state.shadow?.status, 'ok');
    assert.equal(state.shadow?.agrees, true);
    assert.deepEqual([state.rollout?.stage, state.rollout?.inShare, state.rollout?.decidedBy], ['shadow', true, 'production']);
  });

  it('suggestion: the candidate answers, a reviewer decides, nothing is applied on its own', async () => {
    await rollout('suggestion');
    const event = ticketEvent(CONFIDENT);
    const started = await h.client.startTriage(event, { reviewers: ['usr_442'] });
    const state = await eventually('the suggestion in review', async () => {
      const s = await h.client.triageState(started.workflowId);
      return s.phase === 'awaiting_review' ? s : undefined;
    });
    assert.equal(state.pendingReview?.reason, 'suggestion');
    assert.equal(state.prompt?.version, v2.version);
    assert.equal(state.evidenceIds.length, 0, 'nothing applied');
    assert.deepEqual(sentTo(event.ticket.body), ['candidate']);
    await h.client.review(started.workflowId, { action: 'approve', reviewerId: 'usr_442' });
    assert.equal((await h.client.triageResult(started.workflowId)).outcome, 'approved');
  });

  it('partial: the candidate decides its share, auto-applying what passes; outside the share production decides', async () => {
    await rollout('partial', 0.5);
    const events = Array.from({ length: 200 }, () => ticketEvent(CONFIDENT));
    const inShare = events.find((e) => splitPoint(e.event_id) < 0.5)!;
    const outside = events.find((e) => splitPoint(e.event_id) >= 0.5)!;
    const a = await h.client.triageResult((await h.client.startTriage(inShare)).workflowId);
    const b = await h.client.triageResult((await h.client.startTriage(outside)).workflowId);
    assert.deepEqual([a.outcome, a.prompt.version], ['auto_applied', v2.version]);
    assert.deepEqual([b.outcome, b.prompt.version], ['auto_applied', V1]);
    assert.deepEqual((await h.client.triageState(b.workflowId)).rollout?.inShare, false);
  });

  it('full takes every run; a frozen rollout refuses a change; ending it returns runs to production', async () => {
    await rollout('full', 0);
    const full = await h.client.triageResult((await h.client.startTriage(ticketEvent(CONFIDENT))).workflowId);
    assert.equal(full.prompt.version, v2.version);
    await setControl(h.store, { workflowType: TRIAGE, control: 'rollout_frozen', value: true, actor: 'slo:test', reason: 'budget spent' });
    try {
      await assert.rejects(rollout('partial'), /the rollout of supportTicketTriage is frozen/);
      assert.equal(await endRollout(h.store, { workflowType: TRIAGE, actor: 'usr_oncall', reason: 'freeze' }), true, 'ending is allowed while frozen');
    } finally {
      await setControl(h.store, { workflowType: TRIAGE, control: 'rollout_frozen', value: false, actor: 'usr_ops', reason: 'recovered' });
    }
    const after = await h.client.triageResult((await h.client.startTriage(ticketEvent(CONFIDENT))).workflowId);
    assert.equal(after.prompt.version, V1);
  });
});

describe('the kill switch, from the command line', () => {
  let pg: PostgresServer;
  let h: Harness;
  before(async () => {
    pg = await startPostgres();
    h = await startHarness({ databaseUrl: pg.url });
  });
  after(async () => {
    await h?.close();
    await pg?.stop();
  });

  it('on: the next run waits for a person, without a restart; off: runs apply again', async () => {
    const on = await cli(['kill-switch', TRIAGE, 'on', '--actor', 'usr_oncall', '--reason', 'bad answers reported'], { DATABASE_URL: pg.url });
    assert.equal(on.code, 0, on.stderr);
    assert.match(on.stdout, /kill switch on; runs started from now on wait for a reviewer/);
    const held = await h.client.startTriage(ticketEvent(CONFIDENT), { reviewers: ['usr_442'] });
    const state = await eventually('the held run', async () => {
      const s = await h.client.triageState(held.workflowId);
      return s.phase === 'awaiting_review' ? s : undefined;
    });
    assert.equal(state.pendingReview?.reason, 'review_only');
    const shown = await cli(['rollout', 'show', TRIAGE], { DATABASE_URL: pg.url });
    assert.match(shown.stdout, /^controls {5}review_only$/m);

    const off = await cli(['kill-switch', TRIAGE, 'off', '--actor', 'usr_oncall', '--reason', 'fixed'], { DATABASE_URL: pg.url });
    assert.equal(off.code, 0, off.stderr);
    assert.equal((await h.client.triageResult((await h.client.startTriage(ticketEvent(CONFIDENT))).workflowId)).outcome, 'auto_applied');
    const bad = await cli(['kill-switch', TRIAGE, 'maybe', '--actor', 'x', '--reason', 'y'], { DATABASE_URL: pg.url });
    assert.equal(bad.code, 2);
    await h.client.review(held.workflowId, { action: 'approve', reviewerId: 'usr_442' });
  });
});
