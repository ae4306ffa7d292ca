import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PromptRecord } from 'governor';
import { registerPrompt } from 'governor/worker';
import { classifierRecord } from '../examples/support/prompts/support-ticket-classifier.js';
import { governorCli as cli } from './helpers/cli.js';
import { eventually, startHarness, ticketEvent, type Harness } from './helpers/harness.js';
import { startPostgres, type PostgresServer } from './helpers/postgres.js';

const NAME = classifierRecord.name;
const V1 = classifierRecord.version;
const fixed: PromptRecord = { ...classifierRecord, version: `${V1}-fix`, system: `${classifierRecord.system}\nWording fix: top-up questions are billing.` };
/** A question the offline model answers how_to, and billing under the fixed wording. */
const STATEMENTS = { subject: 'Statements', body: 'Where can I see my statements?' };

describe('re-running what a bad version decided, and the dead-letter list', () => {
  let pg: PostgresServer;
  let h: Harness;
  let env: Record<string, string>;
  before(async () => {
    pg = await startPostgres();
    h = await startHarness({ databaseUrl: pg.url });
    await registerPrompt(h.store, fixed, 'usr_ops');
    // The fixed wording changes the model's answer for top-up questions.
    h.double.when((req) => req.text.includes('Wording fix') && req.text.includes('my statements'), { kind: 'json', value: { category: 'billing', urgency: 'low', confidence: 0.9, reason: 'Statements are billing.' } });
    env = { DATABASE_URL: pg.url, TEMPORAL_ADDRESS: h.server.address };
  });
  after(async () => {
    await h?.close();
    await pg?.stop();
  });

  it('selects exactly the runs by version, window and outcome, re-runs them linked, and prints the differences', async () => {
    const before = await h.client.startTriage(ticketEvent(STATEMENTS));
    await h.client.triageResult(before.workflowId);
    await new Promise((r) => setTimeout(r, 50));
    const since = new Date();
    const affected = [];
    for (let i = 0; i < 2; i++) affected.push((await h.client.startTriage(ticketEvent(STATEMENTS))).workflowId);
    const escalated = (await h.client.startTriage(ticketEvent())).workflowId;
    for (const id of [...affected, escalated]) await h.client.triageResult(id);
    await eventually('the runs in visibility', async () => {
      const n = await h.client.client.workflow.count(`WorkflowType = 'supportTicketTriage' AND GovernorPromptVersion = '${NAME}@${V1}' AND ExecutionStatus = 'Completed'`);
      return n.count >= 4 ? true : undefined;
    });

    const r = await cli(['rerun-affected', '--prompt', `${NAME}@${V1}`, '--with', fixed.version, '--since', since.toISOString(), '--outcome', 'auto_applied', '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const diffs = JSON.parse(r.stdout) as Array<{ original: { workflowId: string; category: string }; rerunId: string; now: { category: string }; changed: boolean }>;
    assert.deepEqual(diffs.map((d) => d.original.workflowId).sort(), [...affected].sort(), 'exactly the auto-applied runs since the window opened');
    for (const d of diffs) {
      assert.equal(d.original.category, 'how_to');
      assert.equal(d.now.category, 'billing');
      assert.equal(d.changed, true);
      assert.match(d.rerunId, new RegExp(`^rerun/${d.original.workflowId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/${fixed.version.replaceAll('.', '\\.')}/`));
      const { memo } = await h.client.client.workflow.getHandle(d.rerunId).describe();
      assert.equal(memo?.rerunOf, d.original.workflowId, 'linked to the original');
    }
    const table = await cli(['rerun-affected', '--prompt', `${NAME}@${V1}`, '--with', fixed.version, '--since', since.toISOString(), '--outcome', 'auto_applied'], env);
    assert.match(table.stdout, /^RUN\s+WAS\s+NOW\s+CHANGED\s+RE-RUN$/m);
    assert.match(table.stdout, /how_to\/low \(auto_applied\)\s+billing\/low\s+yes\s+rerun\//);
    assert.match(table.stdout, new RegExp(`^2 run\\(s\\) decided by ${NAME}@${V1.replaceAll('.', '\\.')}; 2 would change with`, 'm'));
    const bad = await cli(['rerun-affected', '--prompt', `${NAME}@${V1}`, '--with', fixed.version, '--since', 'yesterday'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--since: "yesterday" is not a date/);
  });

  it('corrections become regression cases: run, original output, corrected output, reason, reviewer', async () => {
    const started = await h.client.startTriage(ticketEvent({ subject: 'Why?', body: 'Why did I get blocked?' }), { reviewers: ['usr_442'] });
    await eventually('the review', async () => ((await h.client.triageState(started.workflowId)).phase === 'awaiting_review' ? true : undefined));
    await h.client.review(started.workflowId, { action: 'correct', reviewerId: 'usr_442', corrected: { category: 'account', urgency: 'high' }, note: 'a blocked account is urgent' });
    await h.client.triageResult(started.workflowId);
    const dir = await mkdtemp(join(tmpdir(), 'governor-regression-'));
    try {
      const out = join(dir, 'regression.json');
      await writeFile(out, JSON.stringify({ cases: [{ id: 'reg-1', input: { subject: 's', body: 'b' }, expected: { category: 'billing' } }] }));
      const first = await eventually('the correction in visibility', async () => {
        const r = await cli(['eval', 'export-corrections', '--out', out], env);
        return /^1 correction\(s\) found, 1 new/m.test(r.stdout) ? r : undefined;
      });
      assert.equal(first.code, 0, first.stderr);
      const again = await cli(['eval', 'export-corrections', '--out', out], env);
      assert.match(again.stdout, /^1 correction\(s\) found, 0 new/m, 'exporting twice adds nothing');
      const file = JSON.parse(await readFile(out, 'utf8')) as { cases: Array<{ id: string; input: { body: string }; expected: unknown; source?: Record<string, unknown> }> };
      assert.equal(file.cases.length, 2);
      const added = file.cases[1]!;
      assert.equal(added.input.body.startsWith('Why did I get blocked?'), true);
      assert.deepEqual(added.expected, { category: 'account', urgency: 'high' });
      assert.equal(added.source?.workflowId, started.workflowId);
      assert.deepEqual(added.source?.original, { category: 'other', urgency: 'low' });
      assert.deepEqual([added.source?.reason, added.source?.reviewer], ['a blocked account is urgent', 'usr_442']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a run that failed for good is on the dead-letter list, and one command re-runs it, linked', async () => {
    // A run whose input names no model at all fails for good (the failure table: InvalidConfig, never retried).
    const event = ticketEvent();
    const failedId = `triage/${event.event_id}`;
    await h.client.client.workflow.start('supportTicketTriage', {
      taskQueue: 'governor',
      workflowId: failedId,
      args: [{ event, config: { confidenceThreshold: 0.75, reviewers: ['usr_442'], reviewDeadline: '24h', modelChain: [] } }],
    });
    const listed = await eventually('the dead-letter list', async () => {
      const out = await cli(['dead-letter', '--json'], env);
      const items = JSON.parse(out.stdout || '[]') as Array<{ workflowId: string; status: string; reason: string }>;
      return items.find((i) => i.workflowId === failedId);
    });
    assert.equal(listed.status, 'FAILED');
    assert.match(listed.reason, /the model chain is empty/);

    const rerun = await cli(['rerun', failedId], env);
    assert.equal(rerun.code, 0, rerun.stderr);
    const id = /^re-run of \S+: (\S+)$/m.exec(rerun.stdout)?.[1];
    assert.ok(id?.startsWith(`${failedId}/rerun-`), rerun.stdout);
    const { memo, type } = await h.client.client.workflow.getHandle(id!).describe();
    assert.equal(type, 'supportTicketTriage');
    assert.equal(memo?.rerunOf, failedId);
    // Same input, same fault: the re-run fails the same way, and says whose re-run it is.
    const again = await eventually('the re-run on the list', async () => {
      const items = JSON.parse((await cli(['dead-letter', '--json'], env)).stdout || '[]') as Array<{ workflowId: string; rerunOf: string | null }>;
      return items.find((i) => i.workflowId === id);
    });
    assert.equal(again.rerunOf, failedId);
    const unknown = await cli(['rerun', 'triage/evt_nope'], env);
    assert.equal(unknown.code, 3);
  });
});
