import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { setControl } from '../activities/controls.js';
import { readTogetherActivity } from '../activities/reads.js';
import { createProviders } from '../activities/providers/registry.js';
import { openStore, type Store } from '../activities/store.js';
import { startDevServer } from '../workers/dev-server.js';
import { Policy } from '../contracts/policy.js';
import type { ReadOutcome } from '../contracts/reads.js';

/** The activity runs in a workflow's local activity; `attempt` is the attempt Temporal would be on. */
const env = (attempt = 1) => new MockActivityEnvironment({ attempt, workflowType: 'supportTicketTriage' }, { logger: new DefaultLogger('ERROR') });

describe('readTogether: several reads of the worker as one local activity (real store)', () => {
  let store: Store;
  let readTogether: (input: unknown) => Promise<ReadOutcome[]>;
  before(async () => {
    store = await openStore();
    await setControl(store, { workflowType: 'supportTicketTriage', control: 'review_only', value: true, actor: 'usr_oncall', reason: 'test' });
    const kit = createActivities({ providers: createProviders({}), store, tools: [], policy: Policy.parse({ version: 'test', actors: {} }) });
    const activities = {
      ...kit,
      // A domain read on the same store: one order by id; a missing order is the caller's mistake (no retry helps).
      async loadOrder(id: string): Promise<{ id: string; total: number }> {
        const { rows } = await store.db.query<{ id: string; total: number }>('select id, total from orders where id = $1', [id]);
        if (!rows[0]) throw ApplicationFailure.nonRetryable(`no order ${id}`, 'ToolFailed');
        return rows[0];
      },
      // A read that refuses its argument before it awaits anything (a plain function, not an async one).
      checkId(id: string): Promise<string> {
        if (!/^o\d+$/.test(id)) throw ApplicationFailure.nonRetryable(`bad order id ${id}`, 'ToolFailed');
        return Promise.resolve(id);
      },
      // An effect: registered on the worker, never declared a read.
      async shipOrder(id: string): Promise<string> {
        await store.db.query('update orders set total = 0 where id = $1', [id]);
        return id;
      },
    };
    readTogether = readTogetherActivity(activities, ['loadOrder', 'checkId']);
  });
  after(async () => {
    await store?.close();
  });

  it("answers each read's value, in the order asked", async () => {
    await store.db.exec("create table if not exists orders (id text primary key, total int); insert into orders values ('o1', 40) on conflict do nothing");
    const outcomes: ReadOutcome[] = await env().run(readTogether, {
      reads: [
        { activity: 'workflowControls', args: ['supportTicketTriage'] },
        { activity: 'loadOrder', args: ['o1'] },
      ],
      attempts: 5,
    });
    assert.deepEqual(outcomes, [
      { ok: true, value: { reviewOnly: true, fallbackChain: false, rolloutFrozen: false } },
      { ok: true, value: { id: 'o1', total: 40 } },
    ]);
  });

  it('refuses an activity that is not a declared read, and a malformed request, naming the field, running nothing', async () => {
    await store.db.exec("create table if not exists orders (id text primary key, total int); insert into orders values ('o2', 7) on conflict do nothing");
    await assert.rejects(
      env().run(readTogether, { reads: [{ activity: 'loadOrder', args: ['o2'] }, { activity: 'shipOrder', args: ['o2'] }], attempts: 5 }),
      (err: ApplicationFailure) => err.type === 'InvalidConfig' && err.nonRetryable === true && /reads\.1\.activity: shipOrder is not a read/.test(err.message),
    );
    assert.equal((await store.db.query<{ total: number }>("select total from orders where id = 'o2'")).rows[0]!.total, 7, 'the effect never ran');
    await assert.rejects(env().run(readTogether, { reads: [], attempts: 5 }), /readTogether: reads: names at least one read/);
    await assert.rejects(env().run(readTogether, { reads: [{ activity: 'loadOrder', args: ['o2'] }] }), /attempts/);
    await assert.rejects(env().run(readTogether, { reads: [{ activity: 'loadOrder', args: 'o2' }], attempts: 5 }), /reads\.0\.args/);
  });

  it('tries every read again together while attempts remain, then answers what each gave', async () => {
    await store.db.exec('drop table if exists orders');
    const reads = [
      { activity: 'workflowControls', args: ['supportTicketTriage'] },
      { activity: 'loadOrder', args: ['o3'] },
    ];
    // The orders table is missing: a retryable database error. Attempt 2 of 3 fails the whole attempt.
    await assert.rejects(
      env(2).run(readTogether, { reads, attempts: 3 }),
      (err: ApplicationFailure) => err.type === 'ReadFailed' && err.nonRetryable === false && /loadOrder: .*orders/.test(err.message),
    );
    // The last attempt answers: the controls read, and the order read's error.
    const last: ReadOutcome[] = await env(3).run(readTogether, { reads, attempts: 3 });
    assert.equal(last[0]!.ok, true);
    assert.ok(!last[1]!.ok && /orders/.test(last[1]!.error.message) && !last[1]!.error.nonRetryable, JSON.stringify(last[1]));
  });

  it('answers at once when a read failed for good: no retry can change a non-retryable failure', async () => {
    await store.db.exec('create table if not exists orders (id text primary key, total int)');
    const outcomes: ReadOutcome[] = await env(1).run(readTogether, { reads: [{ activity: 'loadOrder', args: ['missing'] }], attempts: 5 });
    assert.deepEqual(outcomes, [{ ok: false, error: { message: 'no order missing', type: 'ToolFailed', nonRetryable: true } }]);
  });

  it('a read that throws before it awaits is its own outcome, not the whole activity failing', async () => {
    const outcomes: ReadOutcome[] = await env(1).run(readTogether, {
      reads: [
        { activity: 'workflowControls', args: ['supportTicketTriage'] },
        { activity: 'checkId', args: ['x!'] },
      ],
      attempts: 5,
    });
    assert.equal(outcomes[0]!.ok, true);
    assert.deepEqual(outcomes[1], { ok: false, error: { message: 'bad order id x!', type: 'ToolFailed', nonRetryable: true } });
  });

  it('a worker cannot declare a read it does not register', () => {
    assert.throws(() => readTogetherActivity({}, ['loadOrder']), /loadOrder is declared a read but no activity of that name is registered/);
  });
});

describe('readTogether in a run (real dev server)', () => {
  it('a run cancelled during its reads is cancelled, not carried on with their fallbacks', async () => {
    const server = await startDevServer();
    const native = await NativeConnection.connect({ address: server.address });
    const connection = await Connection.connect({ address: server.address });
    let readStarted!: () => void;
    const started = new Promise<void>((resolve) => (readStarted = resolve));
    const activities = {
      // A read that takes long enough to be cancelled in: it ends when the run's cancellation reaches it.
      async slowRead(): Promise<string> {
        readStarted();
        await Context.current().sleep(30_000);
        return 'read';
      },
    };
    const worker = await Worker.create({
      connection: native,
      taskQueue: 'read-cancel',
      workflowsPath: fileURLToPath(new URL('./fixtures/read-cancel/index.ts', import.meta.url)),
      activities: { ...activities, readTogether: readTogetherActivity(activities, ['slowRead']) },
    });
    try {
      await worker.runUntil(async () => {
        const handle = await new Client({ connection }).workflow.start('readThenReport', { taskQueue: 'read-cancel', workflowId: 'read-cancel-1' });
        await started;
        await handle.cancel();
        const failed = await handle.result().then(
          (value) => assert.fail(`the run carried on and returned ${String(value)}`),
          (err: unknown) => err,
        );
        assert.ok(failed instanceof WorkflowFailedError, String(failed));
        assert.ok(failed.cause instanceof CancelledFailure, `cancelled, not ${String(failed.cause)}`);
      });
    } finally {
      await connection.close();
      await native.close();
      await server.stop();
    }
  });
});
