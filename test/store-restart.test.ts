import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { verifyEvidence } from 'governor/worker';
import { complaintEvent, eventually, startHarness, type Harness } from './helpers/harness.js';
import { startPostgres, type PostgresServer } from './helpers/postgres.js';

/**
 * The store restarted under load. A small slice runs in the suite; `npm run chaos:store` runs 200 (the size at which
 * the failure this guards against was found: store errors counted as the tools' ill health, breakers opened and
 * runs were parked for a person with their emails unsent).
 */
const RUNS = Number(process.env.GOVERNOR_CHAOS_RUNS ?? 16);
const OUTAGE_MS = 5_000;

describe(`the PostgreSQL store restarted for ${OUTAGE_MS / 1000} s under ${RUNS} in-flight complaint runs`, () => {
  let pg: PostgresServer;
  let h: Harness;
  before(async () => {
    pg = await startPostgres();
    h = await startHarness({ databaseUrl: pg.url, modelTimeoutMs: 30_000 });
  });
  after(async () => {
    await h?.close();
    await pg?.stop();
  });

  it('every run completes, each with exactly one escalation email, and no tool breaker opens', async () => {
    // Runs arrive over a few seconds, as traffic does: when the first emails are in, later runs are still working (all
    // started at once, a fast machine could finish every run between two looks at the outbox).
    const starting = (async () => {
      const ids: string[] = [];
      for (let i = 0; i < RUNS; i++) {
        ids.push((await h.client.startComplaint(complaintEvent())).workflowId);
        await sleep(200);
      }
      return ids;
    })();
    const sent = async () => Number((await h.store.db.query<{ n: string }>("select count(*)::text as n from outbox where kind = 'escalation'")).rows[0]!.n);
    // Mid-batch: some emails are in the outbox, some runs are still working.
    const before = await eventually('the first emails', async () => ((await sent()) > 0 ? sent() : undefined), 120_000);
    assert.ok(before < RUNS, `every run had sent its email before the restart (${before}); nothing was tested`);
    await pg.pause();
    await sleep(OUTAGE_MS);
    await pg.resume();

    const started = await starting;
    const results = await Promise.all(started.map((id) => h.client.complaintResult(id)));
    const parked = results.filter((r) => r.outcome !== 'completed');
    assert.deepEqual(parked.map((r) => `${r.workflowId}: ${r.outcome}`), [], 'no run was parked for a person');
    for (const r of results) assert.equal(r.summary.escalationEmailSent, true, `${r.workflowId} sent its email`);

    const perRun = await h.store.db.query<{ workflow_id: string; n: string }>(
      `select workflow_id, count(*)::text as n from evidence where tool = 'send_escalation_email' and status = 'success' group by workflow_id`,
    );
    assert.equal(perRun.rows.length, RUNS);
    for (const row of perRun.rows) assert.equal(row.n, '1', `${row.workflow_id}: one email record`);
    assert.equal(await sent(), RUNS, 'one outbox row per run');

    const report = await verifyEvidence(h.store);
    assert.deepEqual(report.problems, []);
    const opened = h.breakers.snapshot().filter((b) => b.name.startsWith('tool:') && b.opened > 0);
    assert.deepEqual(opened, [], 'the store being down is not a tool being unwell');
  });
});
