import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eventually, startHarness, ticketEvent, type Harness } from './helpers/harness.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command the way a user would, from the project directory. */
function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

describe('the governor CLI, driven as a user would', () => {
  let h: Harness;
  let dir: string;
  let governor: (args: string[], input?: string) => Promise<Run>;
  before(async () => {
    h = await startHarness();
    dir = await mkdtemp(join(tmpdir(), 'governor-cli-'));
    governor = (args, input) => run(process.execPath, ['--import', 'tsx', 'examples/support/cli.ts', ...args], { env: { TEMPORAL_ADDRESS: h.server.address }, input });
  });
  after(async () => {
    await h?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('--help explains the commands and exit codes', async () => {
    const r = await governor(['--help']);
    assert.equal(r.code, 0);
    for (const word of ['start', 'status', 'pending', 'approve', 'reject', 'correct', 'Exit codes']) assert.match(r.stdout, new RegExp(word));
  });

  it('start (file) → pending → status → approve → a second decision is refused', async () => {
    const file = join(dir, 'ticket.json');
    await writeFile(file, JSON.stringify(ticketEvent({ subject: 'Why?', body: 'Why did I get blocked?' })));
    const started = await governor(['start', file, '--reviewers', 'usr_442,usr_7', '--wait']);
    assert.equal(started.code, 0, started.stderr);
    const workflowId = /started: (\S+)/.exec(started.stdout)?.[1];
    assert.ok(workflowId, started.stdout);
    assert.match(started.stdout, /phase\s+awaiting_review/);
    assert.match(started.stdout, /review\s+low_confidence/);

    await eventually('the run in `pending`', async () => {
      const pending = await governor(['pending']);
      return pending.stdout.includes(workflowId) ? pending : undefined;
    });

    const status = await governor(['status', workflowId, '--json']);
    assert.equal(status.code, 0);
    assert.equal((JSON.parse(status.stdout) as { phase: string }).phase, 'awaiting_review');

    const outsider = await governor(['approve', workflowId, '--reviewer', 'usr_999']);
    assert.equal(outsider.code, 3);
    assert.match(outsider.stderr, /not authorised: usr_999 is not a reviewer/);

    const approved = await governor(['approve', workflowId, '--reviewer', 'usr_7', '--note', 'fine']);
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(approved.stdout, /accepted: approve by usr_7/);

    const again = await governor(['reject', workflowId, '--reviewer', 'usr_442']);
    assert.equal(again.code, 3);
    assert.match(again.stderr, /already decided/);

    const result = await h.client.triageResult(workflowId);
    assert.equal(result.outcome, 'approved');
  });

  it('start from standard input; the same event again reports the existing run', async () => {
    const event = JSON.stringify(ticketEvent());
    const first = await governor(['start', '-'], event);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^started: triage\/evt_/);
    const second = await governor(['start'], event);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /already started \(duplicate event id\)/);
  });

  it('--log-format json: one JSON line per run started, decision sent and error; no ticket text', async () => {
    const secret = 'Zanzibar Books, flat 4';
    const json = (args: string[], input?: string) =>
      run(process.execPath, ['--import', 'tsx', 'examples/support/cli.ts', ...args], {
        env: { TEMPORAL_ADDRESS: h.server.address, GOVERNOR_LOG_FORMAT: 'json' },
        input,
      });
    const lines = (stderr: string) => stderr.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const started = await json(['start', '-', '--reviewers', 'usr_442'], JSON.stringify(ticketEvent({ subject: 'Why?', body: `Why did I get blocked? ${secret}` })));
    assert.equal(started.code, 0, started.stderr);
    const [line] = lines(started.stderr);
    assert.equal(line?.msg, 'run started');
    assert.equal(line?.service, 'governor-cli');
    assert.equal(line?.level, 'info');
    assert.match(String(line?.workflowId), /^triage\/evt_/);
    assert.equal(typeof line?.runId, 'string');
    const workflowId = String(line!.workflowId);
    await eventually('the review', async () => ((await h.client.triageState(workflowId)).phase === 'awaiting_review' ? true : undefined));
    const outsider = await json(['--log-format', 'json', 'approve', workflowId, '--reviewer', 'usr_999']);
    assert.equal(outsider.code, 3);
    const [sent, refusal] = lines(outsider.stderr);
    assert.deepEqual([sent?.msg, sent?.workflowId, sent?.verb, sent?.status], ['decision sent', workflowId, 'review', 'not_authorised']);
    assert.equal(refusal?.level, 'error');
    assert.equal(refusal?.exitCode, 3);
    assert.match(String(refusal?.msg), /not authorised: usr_999/);
    const bad = await json(['start', '-'], JSON.stringify({ ...ticketEvent({ body: secret }), customer: { id: '' } }));
    assert.equal(bad.code, 2);
    const [invalid] = lines(bad.stderr);
    assert.equal(invalid?.msg, 'invalid trigger; nothing was started');
    assert.ok(Array.isArray(invalid?.issues) && (invalid.issues as { field: string }[]).some((i) => i.field.startsWith('customer')));
    for (const out of [started, outsider, bad]) assert.ok(!out.stderr.includes('Zanzibar'), 'no ticket text in a CLI log line');
    await h.client.review(workflowId, { action: 'approve', reviewerId: 'usr_442' });
  });

  it('bad input: exit 2, the field and the rule named, nothing started', async () => {
    const event = ticketEvent();
    const bad = await governor(['start', '-'], JSON.stringify({ ...event, customer: { ...event.customer, plan: 'gold' } }));
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /invalid trigger; nothing was started/);
    assert.match(bad.stderr, /customer\.plan: /);
    assert.equal(await h.client.exists(`triage/${event.event_id}`), false);

    const notJson = await governor(['start', '-'], '{nope');
    assert.equal(notJson.code, 2);
    assert.match(notJson.stderr, /not valid JSON/);

    const missing = await governor(['start', join(dir, 'missing.json')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read .*ENOENT/);

    const threshold = await governor(['start', '--threshold', '7', '-'], JSON.stringify(ticketEvent()));
    assert.equal(threshold.code, 2);
    assert.match(threshold.stderr, /must be a number from 0 to 1/);

    const noReviewer = await governor(['approve', 'triage/evt_x']);
    assert.equal(noReviewer.code, 2);
    assert.match(noReviewer.stderr, /--reviewer/);

    const unknown = await governor(['approve', 'triage/evt_nope', '--reviewer', 'usr_442']);
    assert.equal(unknown.code, 3);
    assert.match(unknown.stderr, /not found/);
  });

  it('input is validated before anything is contacted: with Temporal down, bad input still exits 2', async () => {
    const down = { TEMPORAL_ADDRESS: '127.0.0.1:1' };
    const cli = (args: string[], input: string, env: NodeJS.ProcessEnv = {}) =>
      run(process.execPath, ['--import', 'tsx', 'examples/support/cli.ts', ...args], { env: { ...down, ...env }, input });
    const notJson = await cli(['start', '-'], '{nope');
    assert.equal(notJson.code, 2);
    assert.match(notJson.stderr, /not valid JSON/);
    const unknownType = await cli(['start', '-'], JSON.stringify({ ...ticketEvent(), event: 'order.placed' }));
    assert.equal(unknownType.code, 2);
    assert.match(unknownType.stderr, /event: "order\.placed" starts no workflow here; known: support_ticket\.created \(supportTicketTriage\), complaint\.received/);
    const badProvider = await cli(['start', '-'], JSON.stringify(ticketEvent()), { GOVERNOR_PROVIDER: 'Not A Provider' });
    assert.equal(badProvider.code, 2);
    assert.match(badProvider.stderr, /invalid config; nothing was started:\n\s+GOVERNOR_PROVIDER: a provider name is/);
  });

  it('an unknown run is exit 3 for status and for a decision alike', async () => {
    const status = await governor(['status', 'triage/evt_nope']);
    assert.equal(status.code, 3, status.stderr);
    assert.match(status.stderr, /not found: no run triage\/evt_nope/);
    const approve = await governor(['approve', 'triage/evt_nope', '--reviewer', 'usr_442']);
    assert.equal(approve.code, 3);
  });

  it('a worker started with Temporal down says so in one line, without a stack', async () => {
    const r = await run(process.execPath, ['--import', 'tsx', 'examples/support/worker.ts'], {
      env: { TEMPORAL_ADDRESS: '127.0.0.1:1', ANTHROPIC_API_KEY: 'test', GOVERNOR_METRICS_PORT: '0', GOVERNOR_DATA_DIR: join(dir, 'worker-pg') },
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /governor worker: cannot reach Temporal at 127\.0\.0\.1:1 .*is the server running\?/);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
  });

  it('an unreachable server: exit 1 with a hint', async () => {
    const r = await run(process.execPath, ['--import', 'tsx', 'examples/support/cli.ts', 'pending'], { env: { TEMPORAL_ADDRESS: '127.0.0.1:1' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot reach Temporal at 127\.0\.0\.1:1/);
  });
});

describe('npm run demo', () => {
  it('provisions a server, triages the example tickets, leaves runs in review, and they can be decided in the console', async () => {
    const home = await mkdtemp(join(tmpdir(), 'governor-demo-'));
    const env: NodeJS.ProcessEnv = { ...process.env, GOVERNOR_HOME: home, ANTHROPIC_API_KEY: '', OPENAI_API_KEY: '', GOVERNOR_CONSOLE_SECRET: '' };
    // Without --exit: the demo keeps serving so reviewers can decide; it stops on SIGINT.
    const child = spawn('npm', ['run', '-s', 'demo'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    try {
      await eventually('the demo serving reviews', async () => (stdout.includes('Serving the worker for reviews') ? true : undefined), 240_000);
      const r = { stdout };
      assert.match(r.stdout, /OFFLINE: no ANTHROPIC_API_KEY or OPENAI_API_KEY is set/);
      assert.match(r.stdout, /TICKET\s+SUBJECT\s+CATEGORY\s+URGENCY\s+CONF\s+DECISION\s+EVIDENCE/);
      assert.match(r.stdout, /tkt_9041 .* billing\s+high\s+0\.93\s+escalated\s+ev_[0-9a-f]{16}, ev_[0-9a-f]{16}/);
      assert.match(r.stdout, /auto-applied/);
      assert.match(r.stdout, /sent to review \(low_confidence\)/);
      assert.match(r.stdout, /http:\/\/127\.0\.0\.1:\d+\/namespaces\/default\/workflows\/triage%2Fevt_/);
      assert.match(r.stdout, /npm run governor -- approve triage\/evt_\S+ --reviewer usr_442/);
      assert.match(r.stdout, /^ {2}Metrics {3}http:\/\/127\.0\.0\.1:\d+\/metrics {2}\(Prometheus: /m);
      assert.match(r.stdout, /^ {2}Traces {4}off; set OTEL_EXPORTER_OTLP_ENDPOINT=/m);
      assert.match(r.stdout, /^ {2}Payloads {2}encrypted in history \(AES-256-GCM, key demo\); codec server http:\/\/127\.0\.0\.1:\d+, the Web UI's codec endpoint:/m);
      assert.match(r.stdout, new RegExp(`sign in at http://127\\.0\\.0\\.1:\\d+/login with the token in ${home.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/codec-token`));
      // One agent investigation, turn by turn, continued as new along the way.
      assert.match(r.stdout, /^ {2}turn {2}1 {2}resolve {2}get_ticket\s+done/m);
      assert.match(r.stdout, /^ {2}stop: finished after \d+ turns in [2-9] runs/m);
      assert.match(r.stdout, /^ {2}answer: .*REF-DEMO1/m);
      // One document through the pipeline, every chunk accounted for.
      assert.match(r.stdout, /^ {2}chunk {2}1 {2}summarised by claude-haiku-4-5$/m);
      assert.match(r.stdout, /^ {2}\d+ chunks, 0 missing, \$/m);
      // One promotion and one rollback, each taking effect for the next run.
      assert.match(r.stdout, /^ {2}eval: passed \(golden, 154 Banking77 queries: category \d+%, urgency \d+%, valid JSON 100%\)$/m);
      assert.match(r.stdout, /^ {2}promoted (\S+)-demo to production: the next run used \1-demo \(no restart\)$/m);
      assert.match(r.stdout, /^ {2}rolled back to (\S+): the next run used \1;/m);
      // The reviewer console: its address and a sign-in token; the waiting runs are decided there.
      const url = /^Reviewer console: (http:\/\/127\.0\.0\.1:\d+) /m.exec(r.stdout)?.[1];
      const token = /sign in as usr_442 with this token:\n {2}(\S+)$/m.exec(r.stdout)?.[1];
      assert.ok(url && token, 'the console address and token are printed');
      const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const queue = (await (await fetch(`${url}/api/queue`, { headers: auth })).json()) as { items: Array<{ workflowId: string; decision: { verb: string; key: string; kind: string } | null }> };
      const review = queue.items.find((i) => i.decision?.kind === 'review');
      assert.ok(review, `a waiting triage run in the console's queue (${queue.items.length} items)`);
      const answer = await fetch(`${url}/api/runs/${encodeURIComponent(review.workflowId)}/decisions`, { method: 'POST', headers: auth, body: JSON.stringify({ verb: 'review', key: 'review', choice: 'approve' }) });
      assert.equal(answer.status, 200, await answer.clone().text());
      await eventually('the demo reports the decision', async () => (stdout.includes(`${review.workflowId}: approved by usr_442`) ? true : undefined), 30_000);
      // The demo's secrets stay with their owner.
      for (const f of ['codec-keys', 'codec-token', 'console-secret']) assert.equal((await stat(join(home, f))).mode & 0o777, 0o600, f);
      // Ctrl+C reaches the whole process group (npm and the demo): the demo stops its servers; npm exits by the signal.
      process.kill(-child.pid!, 'SIGINT');
      const end = await exited;
      assert.ok(end.code === 0 || end.signal === 'SIGINT', `${JSON.stringify(end)}: ${stderr.slice(-2000)}`);
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
      await rm(home, { recursive: true, force: true });
    }
  });
});
