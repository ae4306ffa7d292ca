import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import { executeOnce, recordOutcome, verifyEvidence, evidenceForWorkflow, type ToolCall } from '../activities/evidence.js';
import { verifyHandoff } from '../activities/handoff.js';
import { migrate, openStore, SCHEMA_VERSION, type Store } from '../activities/store.js';
import { Policy, evaluatePolicy } from '../contracts/policy.js';
import { factsOf } from '../contracts/tools.js';
import { SUPPORT_POLICY as DEFAULT_POLICY } from '../examples/support/policy.js';
import { SUPPORT_SCHEMA } from '../examples/support/schema.js';
import { SUPPORT_TOOLS } from '../examples/support/tools.js';
import { startPostgres } from './helpers/postgres.js';

const call = (workflowId: string, step: string, extra: Partial<ToolCall> = {}): ToolCall => ({
  tool: 'add_ticket_note',
  action: 'note',
  actor: 'agent:test',
  workflowId,
  runId: 'run_1',
  stepId: step,
  idempotencyKey: `${workflowId}/${step}`,
  args: { ticketId: 'tkt_1', note: step },
  resources: ['ticket:tkt_1'],
  permission: { outcome: 'granted', policyVersion: 'p1', rule: 'scope:tickets:write', approver: null },
  ...extra,
});

/** The same suite on both backends: embedded PGlite and a real PostgreSQL server (`DATABASE_URL`). */
function storeSuite(name: string, open: () => Promise<{ store: Store; stop(): Promise<void> }>) {
describe(`evidence store on ${name}`, () => {
  let store: Store;
  let stop: () => Promise<void>;
  before(async () => {
    ({ store, stop } = await open());
  });
  after(async () => {
    await stop?.();
  });

  it('a write tool runs once per idempotency key: a retry gets the original result and evidence back', async () => {
    let effects = 0;
    const c = call('wf_once', 's#1', { args: { b: 2, a: 1 } });
    const effect = async () => ({ receiptId: `receipt_${++effects}`, result: { n: effects } });
    const [first, second] = await Promise.all([executeOnce(store, c, effect), executeOnce(store, c, effect)]);
    assert.equal(effects, 1);
    assert.equal(first.evidence.evidenceId, second.evidence.evidenceId);
    assert.equal(first.evidence.receiptId, 'receipt_1');
    assert.deepEqual(second.result, { n: 1 }, 'the duplicate gets the original result');
    assert.deepEqual([first.evidence.deduplicated, second.evidence.deduplicated].sort(), [false, true]);
    const again = await executeOnce(store, { ...c, args: { a: 1, b: 2 } }, effect);
    assert.equal(again.evidence.argsHash, first.evidence.argsHash, 'arguments hash canonically');
    assert.equal(effects, 1);
    await assert.rejects(
      executeOnce(store, { ...c, args: { a: 2, b: 2 } }, effect),
      (err: unknown) => err instanceof ApplicationFailure && err.type === 'IdempotencyConflict' && /other arguments/.test(err.message),
    );
    assert.equal(effects, 1, 'a key reused for other arguments neither runs nor returns the old result');
  });

  it('an effect that throws leaves neither effect nor record; the retry runs it', async () => {
    const c = call('wf_throw', 's#1');
    await assert.rejects(executeOnce(store, c, async (tx) => {
      await tx.query(`insert into ticket_notes (idempotency_key, ticket_id, author, note) values ('wf_throw/s#1', 'tkt_1', 'a', 'n')`);
      throw new Error('tool broke');
    }), /tool broke/);
    assert.equal((await store.db.query('select 1 from ticket_notes where idempotency_key = $1', ['wf_throw/s#1'])).rows.length, 0);
    assert.equal((await evidenceForWorkflow(store, 'wf_throw')).length, 0);
    const ok = await executeOnce(store, c, async () => ({ receiptId: 'r', result: null }));
    assert.equal(ok.evidence.status, 'success');
  });

  it('records chain by hash per workflow and verify passes on an untouched store', async () => {
    for (const s of ['a#1', 'b#1', 'c#1']) await executeOnce(store, call('wf_chain', s), async () => ({ receiptId: s, result: { s } }));
    await recordOutcome(store, call('wf_chain', 'd#1', { permission: { outcome: 'denied', policyVersion: 'p1', rule: 'scope:x-not-held', approver: null } }), 'denied', 'no scope');
    const records = await evidenceForWorkflow(store, 'wf_chain');
    assert.equal(records.length, 4);
    assert.equal(records[0]!.prevHash, '0'.repeat(64));
    for (let i = 1; i < records.length; i++) assert.equal(records[i]!.prevHash, records[i - 1]!.hash);
    assert.equal(records[3]!.status, 'denied');
    assert.equal(records[3]!.policyRule, 'scope:x-not-held');
    const report = await verifyEvidence(store, 'wf_chain');
    assert.deepEqual(report.problems, []);
    assert.equal(report.records, 4);
  });

  it('the database refuses updates, deletes and truncation of evidence', async () => {
    await assert.rejects(store.db.query(`update evidence set status = 'failed' where workflow_id = 'wf_chain'`), /append-only: UPDATE refused/);
    await assert.rejects(store.db.query(`delete from evidence where workflow_id = 'wf_chain'`), /append-only: DELETE refused/);
    await assert.rejects(store.db.query('truncate evidence'), /append-only: TRUNCATE refused/);
  });

  it('tampering behind the project\'s back (triggers disabled) makes verify fail and name the record', async () => {
    for (const s of ['a#1', 'b#1', 'c#1']) await executeOnce(store, call('wf_tamper', s), async () => ({ receiptId: s, result: null }));
    const records = await evidenceForWorkflow(store, 'wf_tamper');
    await store.db.exec('alter table evidence disable trigger evidence_no_change');
    try {
      await store.db.query(`update evidence set receipt_id = 'forged' where evidence_id = $1`, [records[1]!.evidenceId]);
      let report = await verifyEvidence(store, 'wf_tamper');
      assert.equal(report.problems.length, 1);
      assert.equal(report.problems[0]!.evidenceId, records[1]!.evidenceId);
      assert.match(report.problems[0]!.problem, /altered/);

      await store.db.query(`update evidence set receipt_id = 'b#1' where evidence_id = $1`, [records[1]!.evidenceId]);
      assert.deepEqual((await verifyEvidence(store, 'wf_tamper')).problems, [], 'restored contents verify again');

      await store.db.query(`update evidence set result = '{"forged": true}' where evidence_id = $1`, [records[0]!.evidenceId]);
      report = await verifyEvidence(store, 'wf_tamper');
      assert.deepEqual(report.problems.map((p) => [p.evidenceId, p.problem]), [[records[0]!.evidenceId, 'the stored result does not match the recorded result hash: the result was altered']]);
      await store.db.query(`update evidence set result = 'null' where evidence_id = $1`, [records[0]!.evidenceId]);

      await store.db.query('update evidence set hash = null where evidence_id = $1', [records[2]!.evidenceId]);
      report = await verifyEvidence(store, 'wf_tamper');
      assert.deepEqual(report.problems.map((p) => [p.evidenceId, p.problem]), [[records[2]!.evidenceId, 'the record hash was removed']]);
      await store.db.query('update evidence set hash = $2 where evidence_id = $1', [records[2]!.evidenceId, records[2]!.hash]);

      await store.db.query('delete from evidence where evidence_id = $1', [records[1]!.evidenceId]);
      report = await verifyEvidence(store, 'wf_tamper');
      assert.equal(report.problems.length, 1);
      assert.equal(report.problems[0]!.evidenceId, records[2]!.evidenceId, 'the record after the gap is named');
      assert.match(report.problems[0]!.problem, /link is broken/);
    } finally {
      await store.db.exec('alter table evidence enable trigger evidence_no_change');
    }
  });

  it('a write with a stale lease token is refused (LeaseLost) and leaves nothing behind', async () => {
    await executeOnce(store, call('wf_fence', 'a#1', { leases: { 'ticket:tkt_f': 10 } }), async () => ({ receiptId: 'a', result: null }));
    await executeOnce(store, call('wf_fence', 'b#1', { leases: { 'ticket:tkt_f': 11 } }), async () => ({ receiptId: 'b', result: null }));
    let ran = false;
    const stale = executeOnce(store, call('wf_fence', 'c#1', { leases: { 'ticket:tkt_f': 10 } }), async () => {
      ran = true;
      return { receiptId: 'c', result: null };
    });
    await assert.rejects(stale, (err: unknown) => err instanceof ApplicationFailure && err.type === 'LeaseLost' && /stale/.test(err.message));
    assert.equal(ran, false);
    assert.equal((await evidenceForWorkflow(store, 'wf_fence')).length, 2);
  });

  it('opening the store again keeps the records and the protection (migrations are idempotent)', async () => {
    const again = await open2(store);
    assert.deepEqual((await verifyEvidence(again, 'wf_chain')).problems, []);
    await assert.rejects(again.db.query(`delete from evidence where workflow_id = 'wf_chain'`), /append-only/);
  });
});
}

/** Runs the whole schema again on the same database, as an upgrade from an older version would. */
async function open2(store: Store): Promise<Store> {
  await store.db.query('delete from governor_schema');
  await migrate(store.db);
  assert.deepEqual((await store.db.query('select version from governor_schema')).rows, [{ version: SCHEMA_VERSION }]);
  await migrate(store.db);
  return store;
}

storeSuite('PGlite (embedded)', async () => {
  const store = await openStore({ schemas: [SUPPORT_SCHEMA] });
  return { store, stop: () => store.close() };
});

storeSuite('PostgreSQL (server)', async () => {
  const server = await startPostgres();
  const store = await openStore({ databaseUrl: server.url, schemas: [SUPPORT_SCHEMA] });
  assert.match(store.db.describe, /^postgres:\/\/governor@127\.0\.0\.1:\d+\/postgres$/);
  return {
    store,
    stop: async () => {
      await store.close();
      await server.stop();
    },
  };
});

describe('permission policy', () => {
  const facts = (name: string) => factsOf(SUPPORT_TOOLS[name]!);

  it('denies by default: an unknown actor or tool holds nothing', () => {
    assert.equal(evaluatePolicy(DEFAULT_POLICY, 'agent:nobody', facts('get_ticket'), 'get_ticket', 'complaintEscalation').rule, 'actor-unknown');
    assert.equal(evaluatePolicy(DEFAULT_POLICY, 'agent:complaint-triager', null, 'drop_tables', 'complaintEscalation').rule, 'tool-unknown');
  });

  it('the complaint agent may note and escalate, may not refund, and customer email needs a human', () => {
    const agent = 'agent:complaint-triager';
    assert.equal(evaluatePolicy(DEFAULT_POLICY, agent, facts('add_ticket_note'), 'add_ticket_note', 'complaintEscalation').decision, 'allow');
    assert.equal(evaluatePolicy(DEFAULT_POLICY, agent, facts('send_escalation_email'), 'send_escalation_email', 'complaintEscalation').decision, 'allow');
    const refund = evaluatePolicy(DEFAULT_POLICY, agent, facts('issue_refund'), 'issue_refund', 'complaintEscalation');
    assert.equal(refund.decision, 'deny');
    assert.equal(refund.rule, 'scope:payments:refund-not-held');
    const email = evaluatePolicy(DEFAULT_POLICY, agent, facts('send_customer_email'), 'send_customer_email', 'complaintEscalation');
    assert.equal(email.decision, 'require_approval');
    assert.equal(email.rule, 'approval:tool:send_customer_email');
    assert.deepEqual(email.approvers, ['usr_442'], 'approvers come from the policy, not from the run');
  });

  it("an actor's name is not taken on the caller's word: only its workflow types may act as it", () => {
    const claimed = evaluatePolicy(DEFAULT_POLICY, 'agent:complaint-triager', facts('add_ticket_note'), 'add_ticket_note', 'researchAgent');
    assert.deepEqual([claimed.decision, claimed.rule], ['deny', 'actor-not-for-workflow']);
  });

  it('risk thresholds and explicit denials are data', () => {
    const policy = Policy.parse({
      version: 't1',
      actors: { 'agent:ops': { scopes: ['payments:refund', 'tickets:write'], workflows: ['opsWorkflow'] } },
      approval: { riskAtOrAbove: 'critical' },
      deny: [{ id: 'freeze', tool: 'add_ticket_note', reason: 'tickets are frozen for the migration' }],
    });
    assert.equal(evaluatePolicy(policy, 'agent:ops', facts('issue_refund'), 'issue_refund', 'opsWorkflow').rule, 'approval:risk>=critical');
    const frozen = evaluatePolicy(policy, 'agent:ops', facts('add_ticket_note'), 'add_ticket_note', 'opsWorkflow');
    assert.deepEqual([frozen.decision, frozen.rule], ['deny', 'deny:freeze']);
  });

  it('a worker given a malformed policy file refuses to start and names the field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'governor-policy-'));
    try {
      const file = join(dir, 'policy.json');
      await writeFile(file, JSON.stringify({ version: '1', actors: { 'agent:x': { scopes: 'everything', workflows: ['w'] } } }));
      const root = fileURLToPath(new URL('..', import.meta.url));
      const failed = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/support/worker.ts'], {
        cwd: root,
        env: { ...process.env, ANTHROPIC_API_KEY: 'k', GOVERNOR_POLICY_FILE: file, TEMPORAL_ADDRESS: '127.0.0.1:1' },
      }).catch((e: { code: number; stderr: string }) => e);
      assert.equal((failed as { code?: number }).code, 2);
      assert.match(failed.stderr, /invalid policy .*policy\.json: actors\.agent:x\.scopes: /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a malformed policy is refused with the field named', () => {
    const parsed = Policy.safeParse({ version: '', actors: { a: { scopes: 'all', workflows: [] } } });
    assert.equal(parsed.success, false);
    const fields = parsed.error!.issues.map((i) => i.path.join('.'));
    assert.ok(fields.includes('version') && fields.includes('actors.a.scopes') && fields.includes('actors.a.workflows'), fields.join(','));
  });
});

describe('handoff verification', () => {
  let store: Store;
  let good: { artifactId: string; evidenceId: string; scope: string };
  const expected = { receiver: 'agent:analyst', from: 'agent:research', scope: 'category:billing', artifactTools: ['collect_dataset'] };
  before(async () => {
    store = await openStore();
    const content = { category: 'billing', tickets: [] };
    const { canonicalJson, sha256 } = await import('../activities/store.js');
    const contentHash = sha256(canonicalJson(content));
    const artifactId = `art_${contentHash.slice(0, 16)}`;
    const done = await executeOnce(
      store,
      { ...call('wf_research', 'collect#1'), tool: 'collect_dataset', actor: 'agent:research', resources: ['dataset:billing'] },
      async (tx) => {
        await tx.query(`insert into artifacts (artifact_id, kind, scope, content, content_hash) values ($1, 'dataset', 'category:billing', $2, $3)`, [artifactId, JSON.stringify(content), contentHash]);
        return { receiptId: artifactId, result: { artifactId, rows: 0, contentHash, scope: 'category:billing' } };
      },
    );
    good = { artifactId, evidenceId: done.evidence.evidenceId, scope: 'category:billing' };
  });
  after(async () => {
    await store.close();
  });
  const handoff = (over: Record<string, unknown> = {}) => ({ from: 'agent:research', to: 'agent:analyst', task: 't', status: 'verified', ...good, ...over });

  it('accepts a handoff whose evidence, artifact and scope all check out', async () => {
    const verdict = await verifyHandoff(store, handoff(), expected);
    assert.equal(verdict.ok, true);
  });

  it('refuses each kind of unverified handoff with a reason that says what failed', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ evidenceId: 'ev_0000000000000000' }, /evidence ev_0000000000000000 does not exist/],
      [{ status: 'unverified' }, /marked the handoff unverified/],
      [{ scope: 'category:account' }, /scope "category:account" does not match the task scope "category:billing"/],
      [{ from: 'agent:intruder' }, /comes from agent:intruder/],
      [{ artifactId: 'art_ffffffffffffffff' }, /produced art_.*, not art_ffffffffffffffff/],
      [{ extra: 1 }, /malformed/],
    ];
    for (const [over, reason] of cases) {
      const verdict = await verifyHandoff(store, handoff(over), expected);
      assert.equal(verdict.ok, false, JSON.stringify(over));
      assert.match((verdict as { reason: string }).reason, reason);
    }
  });

  it("refuses a handoff whose evidence comes from another run than the sender's", async () => {
    const verdict = await verifyHandoff(store, handoff(), { ...expected, senderWorkflowId: 'handoff/t9/research' });
    assert.match((verdict as { reason: string }).reason, /recorded by wf_research, not the sender's run handoff\/t9\/research/);
  });

  it('refuses a handoff whose evidence says the tool failed', async () => {
    const { evidence: failed } = await recordOutcome(store, { ...call('wf_research2', 'collect#1'), tool: 'collect_dataset', actor: 'agent:research' }, 'failed', 'db down');
    const verdict = await verifyHandoff(store, handoff({ evidenceId: failed.evidenceId }), expected);
    assert.match((verdict as { reason: string }).reason, /status failed/);
  });
});

describe('summary from evidence', () => {
  it('reports evidence the run was given that the store no longer holds (a removed last record)', async () => {
    const { summarizeFromEvidence } = await import('../workflows/summary.js');
    const store = await openStore();
    try {
      for (const s of ['a#1', 'b#1']) await executeOnce(store, call('wf_sum', s), async () => ({ receiptId: s, result: null }));
      const all = await evidenceForWorkflow(store, 'wf_sum');
      const summary = summarizeFromEvidence(all.slice(0, 1), {
        writesOnly: new Set(['add_ticket_note']),
        expected: [],
        modelClaim: '',
        given: all.map((r) => r.evidenceId),
        claims: [],
      });
      assert.deepEqual(summary.missingFromStore, [all[1]!.evidenceId]);
      assert.match(summary.lines.join('\n'), new RegExp(`Evidence ${all[1]!.evidenceId} was recorded during the run but is missing from the store`));
    } finally {
      await store.close();
    }
  });
});
