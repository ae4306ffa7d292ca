import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PromptRecord } from 'governor';
import { latestEvals, moveLabel, readRollout, registerPrompt, setRollout } from 'governor/worker';
import { classifierRecord } from '../examples/support/prompts/support-ticket-classifier.js';
import { startHarness, type Harness } from './helpers/harness.js';
import { governorCli as cli } from './helpers/cli.js';
import { startPostgres, type PostgresServer } from './helpers/postgres.js';

const NAME = classifierRecord.name;
const V1 = classifierRecord.version;
/** Deliberately worse: an output budget too small for the answer, so every reply is cut off mid-JSON. */
const worse: PromptRecord = { ...classifierRecord, version: `${V1}-tight`, maxOutputTokens: 24, rollbackVersion: V1 };
/** A better-worded candidate that has not been evaluated yet. */
const reworded: PromptRecord = { ...classifierRecord, version: `${V1}-r`, system: `${classifierRecord.system}\nKeep the reason to one sentence.` };

describe('governor eval: the real governed step over the suites, gated per metric', () => {
  let pg: PostgresServer;
  let h: Harness;
  let env: Record<string, string>;
  before(async () => {
    pg = await startPostgres();
    h = await startHarness({ databaseUrl: pg.url });
    await registerPrompt(h.store, worse, 'usr_ops');
    await registerPrompt(h.store, reworded, 'usr_ops');
    env = { DATABASE_URL: pg.url, TEMPORAL_ADDRESS: h.server.address, GOVERNOR_ACTOR: 'ci' };
  });
  after(async () => {
    await h?.close();
    await pg?.stop();
  });

  it('the shipped version passes every gated metric on every suite, and its figures are stored', async () => {
    const r = await cli(['eval', 'run', '--prompt', `${NAME}@${V1}`], env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const suite of ['golden', 'edge', 'negative', 'regression', 'adversarial']) assert.match(r.stdout, new RegExp(`^${NAME}@${V1.replaceAll('.', '\\.')} on ${suite} \\(\\d+ cases\\)$`, 'm'));
    assert.match(r.stdout, /^METRIC\s+VALUE\s+TARGET\s+GATED\s+RESULT$/m);
    assert.match(r.stdout, /^category accuracy\s+\d+\.\d%\s+>= \d+\.\d%\s+yes\s+ok$/m);
    assert.match(r.stdout, /^valid-JSON rate\s+100\.0%\s+>= 98\.0%\s+yes\s+ok$/m);
    assert.match(r.stdout, /^passed: every gated metric met its target$/m);
    const stored = await latestEvals(h.store, NAME, V1);
    assert.deepEqual(stored.map((s) => s.suite).sort(), ['adversarial', 'edge', 'golden', 'negative', 'regression']);
    assert.ok(stored.every((s) => s.passed));
    assert.equal(stored.find((s) => s.suite === 'golden')?.cases, 154);
  });

  it('a deliberately worse version fails its gate (exit 1), cannot be promoted, and is demoted from a rollout', async () => {
    await setRollout(h.store, { workflowType: 'supportTicketTriage', promptName: NAME, candidateVersion: worse.version, stage: 'shadow', share: 0.5, actor: 'usr_ops', reason: 'look at it' });
    const r = await cli(['eval', 'run', '--prompt', `${NAME}@${worse.version}`, '--suite', 'golden', '--limit', '12'], env);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /failed its eval: a gated metric missed its target/);
    assert.match(r.stdout, /^valid-JSON rate\s+0\.0%\s+>= 98\.0%\s+yes\s+MISSED$/m);
    assert.match(r.stdout, /^FAILED: a gated metric missed its target; rollout of supportTicketTriage ended$/m);
    assert.equal(await readRollout(h.store, 'supportTicketTriage'), null);
    await assert.rejects(
      moveLabel(h.store, { name: NAME, label: 'production', version: worse.version, actor: 'usr_ops', reason: 'try' }),
      new RegExp(`${NAME}@${worse.version} failed its last eval \\(golden: .*valid-JSON rate`),
    );
    const compare = await cli(['eval', 'compare', NAME, V1, worse.version], env);
    assert.equal(compare.code, 0, compare.stderr);
    assert.match(compare.stdout, new RegExp(`^golden\\s+valid-JSON rate\\s+100\\.0%\\s+0\\.0%\\s+>= 98\\.0%$`, 'm'));
  });

  it('promotion needs a passing eval of that very version; with one, the next runs use it', async () => {
    const refused = await cli(['prompts', 'promote', NAME, reworded.version, '--actor', 'usr_ops', '--reason', 'shorter reasons'], env);
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, new RegExp(`${NAME}@${reworded.version} has no eval \\(support_ticket_classifier\\)`));
    const evaluated = await cli(['eval', 'run', '--prompt', `${NAME}@${reworded.version}`], env);
    assert.equal(evaluated.code, 0, evaluated.stdout + evaluated.stderr);
    const promoted = await cli(['prompts', 'promote', NAME, reworded.version, '--actor', 'usr_ops', '--reason', 'shorter reasons'], env);
    assert.equal(promoted.code, 0, promoted.stderr);
    assert.equal(promoted.stdout, `${NAME}:production ${V1} -> ${reworded.version}\n`);
  });
});
