import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import type { PinnedRun, PromptRecord } from 'governor';
import {
  getPromptVersion,
  labelChanges,
  labelledVersion,
  moveLabel,
  promptHash,
  PromptRegistryError,
  recordEvalResult,
  registerPrompt,
  registeredCallResolver,
  rollbackLabel,
  setControl,
  type Store,
} from 'governor/worker';
import { complaintRecord } from '../examples/support/prompts/complaint-escalation.js';
import { classifierRecord } from '../examples/support/prompts/support-ticket-classifier.js';
import { openSupportStore } from '../examples/support/setup.js';
import { governorCli as cli } from './helpers/cli.js';
import { complaintEvent, eventually, localActivityMarkers, startHarness, ticketEvent, type Harness } from './helpers/harness.js';
import { startPostgres, type PostgresServer } from './helpers/postgres.js';

const NAME = classifierRecord.name;
const V1 = classifierRecord.version;
/** A second version: new wording (its marker is visible in what the model is sent), rolling back to the first. */
const v2: PromptRecord = { ...classifierRecord, version: `${V1}-b`, system: `${classifierRecord.system}\nWording v2: prefer the most specific category.`, rollbackVersion: V1 };

describe('the prompt registry', () => {
  let store: Store;
  before(async () => {
    store = await openSupportStore();
  });
  after(async () => {
    await store?.close();
  });

  it('the code registers its version at start; production points at it; the move is recorded', async () => {
    assert.equal(await labelledVersion(store, NAME, 'production'), V1);
    const row = await getPromptVersion(store, NAME, V1);
    assert.equal(row.hash, promptHash(classifierRecord));
    assert.deepEqual(row.labels, ['production']);
    const [first] = await labelChanges(store, NAME);
    assert.deepEqual([first?.from, first?.to, first?.actor, first?.reason], [null, V1, 'code', 'first version registered']);
    assert.deepEqual(await registerPrompt(store, classifierRecord, 'code'), { hash: row.hash, created: false }, 'registering again changes nothing');
  });

  it('versions are immutable: other content under a version is refused, and the database refuses an update', async () => {
    await assert.rejects(registerPrompt(store, { ...classifierRecord, temperature: 0.5 }, 'usr_ops'), (err: Error) => {
      assert.ok(err instanceof PromptRegistryError);
      assert.match(err.message, new RegExp(`${NAME}@${V1} is registered with other content .*versions are immutable; give the change a new version`));
      return true;
    });
    await assert.rejects(store.db.query("update prompt_versions set record = '{}' where name = $1", [NAME]), /prompt versions are immutable: UPDATE refused/);
    await assert.rejects(registerPrompt(store, { ...classifierRecord, version: 'bad version!' }, 'usr_ops'), /version: 1-40 letters/);
  });

  it('promote, refuse while the rollout is frozen, roll back to the declared version; every move is recorded', async () => {
    await registerPrompt(store, v2, 'usr_ops');
    await assert.rejects(moveLabel(store, { name: NAME, label: 'production', version: v2.version, actor: 'usr_ops', reason: 'x' }), /has no eval/);
    await recordEvalResult(store, { name: NAME, version: v2.version, suite: 'golden', cases: 1, metrics: [{ name: 'category accuracy', value: 1, target: 0.4, direction: 'min' as const, gated: true, unit: 'ratio' as const }], actor: 'test' });
    assert.equal(await labelledVersion(store, NAME, 'production'), V1, 'a new version is not production until promoted');
    await assert.rejects(moveLabel(store, { name: NAME, label: 'production', version: 'nope', actor: 'usr_ops', reason: 'x' }), new RegExp(`${NAME} has no version "nope"; known: ${V1}, ${v2.version}`));
    await assert.rejects(moveLabel(store, { name: NAME, label: 'Prod!', version: v2.version, actor: 'usr_ops', reason: 'x' }), /label "Prod!": /);

    await setControl(store, { workflowType: 'supportTicketTriage', control: 'rollout_frozen', value: true, actor: 'slo:triage_schema_failures', reason: 'budget spent' });
    await assert.rejects(moveLabel(store, { name: NAME, label: 'production', version: v2.version, actor: 'usr_ops', reason: 'better wording' }), /the rollout of supportTicketTriage is frozen/);
    await setControl(store, { workflowType: 'supportTicketTriage', control: 'rollout_frozen', value: false, actor: 'usr_ops', reason: 'budget recovered' });

    assert.deepEqual(await moveLabel(store, { name: NAME, label: 'production', version: v2.version, actor: 'usr_ops', reason: 'better wording' }), { from: V1, to: v2.version, changed: true });
    // While frozen, a rollback is still allowed: that is what the freeze is for.
    await setControl(store, { workflowType: 'supportTicketTriage', control: 'rollout_frozen', value: true, actor: 'usr_ops', reason: 'incident' });
    assert.deepEqual(await rollbackLabel(store, { name: NAME, label: 'production', actor: 'usr_oncall', reason: 'worse on review' }), { from: v2.version, to: V1, changed: true });
    const moves = (await labelChanges(store, NAME)).slice(1).map((c) => [c.from, c.to, c.actor, c.reason]);
    assert.deepEqual(moves, [
      [V1, v2.version, 'usr_ops', 'better wording'],
      [v2.version, V1, 'usr_oncall', 'worse on review'],
    ]);
  });

  it('a model call naming its prompt by hash gets the registered text, and is refused when the hash is not the pinned one', async () => {
    const resolve = registeredCallResolver(store);
    const call = { model: { provider: 'anthropic' as const, model: 'claude-haiku-4-5' }, temperature: 0, maxOutputTokens: 10, messages: [{ role: 'user' as const, content: 'hi' }] };
    const full = await resolve({ ...call, prompt: { name: NAME, version: V1, hash: promptHash(classifierRecord) } });
    assert.equal(full.system, classifierRecord.system);
    assert.deepEqual(full.output, classifierRecord.output);
    assert.deepEqual(full.prompt, { name: NAME, version: V1 });
    const inline = { ...call, system: 'inline', output: classifierRecord.output, prompt: { name: NAME, version: V1 } };
    assert.equal(await resolve(inline), inline, 'a prompt carried inline is used as it is');
    await assert.rejects(resolve({ ...call, prompt: { name: NAME, version: V1, hash: 'f'.repeat(64) } }), (err: Error) => {
      assert.ok(err instanceof PromptRegistryError);
      assert.match(err.message, new RegExp(`${NAME}@${V1} in the registry has hash ${promptHash(classifierRecord)}, not the f{64} this run pinned`));
      return true;
    });
    await assert.rejects(resolve({ ...call, prompt: { name: NAME, version: 'nope', hash: 'f'.repeat(64) } }), /has no version "nope"/);
  });
});

describe('a run pins its prompt at its start', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await registerPrompt(h.store, v2, 'usr_ops');
    await recordEvalResult(h.store, { name: NAME, version: v2.version, suite: 'golden', cases: 1, metrics: [{ name: 'category accuracy', value: 1, target: 0.4, direction: 'min' as const, gated: true, unit: 'ratio' as const }], actor: 'test' });
  });
  after(async () => {
    await h?.close();
  });
  const systemOf = (workflowMarker: string) => {
    const req = h.double.requests.find((r) => r.text.includes(workflowMarker));
    assert.ok(req, `a model request for ${workflowMarker}`);
    return req.text;
  };

  it('a label moved mid-run changes nothing for it (replay too); the next run gets the new version; rollback needs no restart', async () => {
    const waiting = ticketEvent({ subject: 'Why?', body: 'Why did I get blocked?' });
    const r1 = await h.client.startTriage(waiting, { reviewers: ['usr_442'] });
    await eventually('r1 in review', async () => ((await h.client.triageState(r1.workflowId)).phase === 'awaiting_review' ? true : undefined));
    assert.equal((await h.client.triageState(r1.workflowId)).prompt?.version, V1);

    await moveLabel(h.store, { name: NAME, label: 'production', version: v2.version, actor: 'usr_ops', reason: 'better wording' });
    await h.client.review(r1.workflowId, { action: 'approve', reviewerId: 'usr_442' });
    const done = await h.client.triageResult(r1.workflowId);
    assert.equal(done.prompt.version, V1, 'pinned at the start');
    assert.equal(done.prompt.hash, promptHash(classifierRecord));
    assert.ok(!systemOf(waiting.ticket.body).includes('Wording v2'));
    const history = await h.client.client.workflow.getHandle(r1.workflowId).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: h.bundle }, history, r1.workflowId);

    const e2 = ticketEvent();
    const r2 = await h.client.triageResult((await h.client.startTriage(e2)).workflowId);
    assert.equal(r2.prompt.version, v2.version);
    assert.ok(systemOf(e2.ticket.body).includes('Wording v2'), 'the model was sent the new wording');
    const { searchAttributes } = await h.client.client.workflow.getHandle(r2.workflowId).describe();
    assert.deepEqual(searchAttributes.GovernorPromptVersion, [`${NAME}@${v2.version}`]);

    // The run's history names the prompt and does not hold it: the pin keeps the settings the steps read and the hash;
    // each model call names it by hash and the activity reads the text and output schema from the registry.
    const r2History = await h.client.client.workflow.getHandle(r2.workflowId).fetchHistory();
    const encoded = Buffer.from(proto.temporal.api.history.v1.History.encode(r2History).finish()).toString('latin1');
    assert.equal(encoded.split('Wording v2').length - 1, 0, 'the wording is not in history');
    assert.equal(encoded.split(JSON.stringify(v2.output.jsonSchema)).length - 1, 0, 'nor the output schema');
    // The pin is one of the run's opening reads, asked together in one local activity.
    const opening = localActivityMarkers(r2History).find((m) => m.type === 'readTogether');
    const outcomes = JSON.parse(Buffer.from(opening!.result!).toString()) as Array<{ ok: boolean; value: unknown }>;
    const pinned = (outcomes.find((o) => typeof o.value === 'object' && o.value !== null && 'prompt' in o.value)!.value as PinnedRun).prompt;
    assert.equal(pinned.hash, promptHash(v2));
    assert.deepEqual(Object.keys(pinned.record).sort(), ['cache', 'maxOutputTokens', 'name', 'output', 'systemChars', 'temperature', 'version']);
    assert.equal(pinned.record.systemChars, v2.system.length);
    assert.deepEqual(pinned.record.output, { name: v2.output.name, description: v2.output.description });
    const scheduled = r2History.events?.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'callModel');
    const input = JSON.parse(Buffer.from(scheduled!.activityTaskScheduledEventAttributes!.input!.payloads![0]!.data!).toString()) as Record<string, unknown>;
    assert.deepEqual(input.prompt, { name: NAME, version: v2.version, hash: promptHash(v2) });
    assert.ok(!('system' in input) && !('output' in input));

    await rollbackLabel(h.store, { name: NAME, label: 'production', actor: 'usr_oncall', reason: 'regression' });
    const e3 = ticketEvent();
    const r3 = await h.client.triageResult((await h.client.startTriage(e3)).workflowId);
    assert.equal(r3.prompt.version, V1, 'the next run after a rollback, same worker');
    assert.ok(!systemOf(e3.ticket.body).includes('Wording v2'));
  });
});

describe('complaint runs pin their prompt too', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  it('a complaint run uses the version production points at when it starts', async () => {
    const c2: PromptRecord = { ...complaintRecord, version: `${complaintRecord.version}-b`, system: `${complaintRecord.system}\nBe brief in ticket notes.` };
    await registerPrompt(h.store, c2, 'usr_ops');
    const first = await h.client.startComplaint(complaintEvent());
    const stateOf = (id: string) => eventually('the complaint to pin its prompt', async () => {
      const s = await h.client.complaintState(id);
      return s.controls ? s : undefined;
    });
    assert.equal((await stateOf(first.workflowId)).prompt?.version, complaintRecord.version);
    // No eval suite gates the complaint prompt (its spec names none), so it is promoted as it is.
    await moveLabel(h.store, { name: complaintRecord.name, label: 'production', version: c2.version, actor: 'usr_ops', reason: 'brief notes' });
    const second = await h.client.startComplaint(complaintEvent());
    assert.equal((await stateOf(second.workflowId)).prompt?.version, c2.version);
    const { searchAttributes } = await h.client.client.workflow.getHandle(second.workflowId).describe();
    assert.deepEqual(searchAttributes.GovernorPromptVersion, [`${complaintRecord.name}@${c2.version}`]);
  });
});

describe('governor prompts, from the command line', () => {
  let pg: PostgresServer;
  before(async () => {
    pg = await startPostgres();
    const store = await openSupportStore({ databaseUrl: pg.url });
    await registerPrompt(store, v2, 'usr_ops');
    await recordEvalResult(store, { name: NAME, version: v2.version, suite: 'golden', cases: 1, metrics: [{ name: 'category accuracy', value: 1, target: 0.4, direction: 'min' as const, gated: true, unit: 'ratio' as const }], actor: 'test' });
    await store.close();
  });
  after(async () => {
    await pg?.stop();
  });
  const governor = (args: string[], env: Record<string, string> = {}) => cli(args, { DATABASE_URL: pg.url, ...env });

  it('list, show, diff, promote, rollback, history; errors name what is wrong', async () => {
    const list = await governor(['prompts', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^${NAME}\\s+${V1.replaceAll('.', '\\.')}\\s+[0-9a-f]{12}\\s+production\\s+ai-support-platform`, 'm'));
    const show = await governor(['prompts', 'show', `${NAME}:production`]);
    assert.match(show.stdout, new RegExp(`^prompt {7}${NAME}@${V1.replaceAll('.', '\\.')}`, 'm'));
    const diff = await governor(['prompts', 'diff', NAME, V1, v2.version]);
    assert.equal(diff.code, 0, diff.stderr);
    assert.match(diff.stdout, /^\+Wording v2: prefer the most specific category\.$/m);
    assert.match(diff.stdout, new RegExp(`^-  "rollbackVersion": null,$\\n^\\+  "rollbackVersion": "${V1.replaceAll('.', '\\.')}",$`, 'm'));

    const noActor = await governor(['prompts', 'promote', NAME, v2.version, '--reason', 'x']);
    assert.equal(noActor.code, 2);
    assert.match(noActor.stderr, /--actor/);
    const unknown = await governor(['prompts', 'promote', NAME, 'nope', '--actor', 'usr_ops', '--reason', 'x']);
    assert.equal(unknown.code, 3);
    assert.match(unknown.stderr, new RegExp(`${NAME} has no version "nope"; known:`));
    const promoted = await governor(['prompts', 'promote', NAME, v2.version, '--actor', 'usr_ops', '--reason', 'better wording']);
    assert.equal(promoted.code, 0, promoted.stderr);
    assert.equal(promoted.stdout, `${NAME}:production ${V1} -> ${v2.version}\n`);
    const back = await governor(['prompts', 'rollback', NAME, '--actor', 'usr_oncall', '--reason', 'regression']);
    assert.equal(back.stdout, `${NAME}:production rolled back ${v2.version} -> ${V1}\n`);
    const history = await governor(['prompts', 'history', NAME, '--json']);
    const moves = (JSON.parse(history.stdout) as Array<{ from: string | null; to: string; actor: string; reason: string }>).map((c) => [c.from, c.to, c.actor, c.reason]);
    assert.deepEqual(moves.slice(1), [
      [V1, v2.version, 'usr_ops', 'better wording'],
      [v2.version, V1, 'usr_oncall', 'regression'],
    ]);

    const nowhere = await cli(['prompts', 'list'], { DATABASE_URL: '' });
    assert.equal(nowhere.code, 2);
    assert.match(nowhere.stderr, /the prompt registry lives in the store: set DATABASE_URL/);
  });
});
