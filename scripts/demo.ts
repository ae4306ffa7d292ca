/**
 * `npm run demo`: the governed support-ticket triage on embedded defaults. Starts a Temporal dev server (SQLite file,
 * Web UI), a worker, and — when no provider key is set — the model double; triages the example tickets and prints
 * what happened to each. Then keeps running so reviewers can decide the runs waiting for them (Ctrl+C stops).
 *
 *   --exit           print the table and stop (for scripts)
 *   --tickets <dir>  trigger events to triage (default examples/support/tickets)
 *   --complaints <dir>  complaint.received events to escalate (default examples/support/complaints)
 *   GOVERNOR_HOME    where the demo keeps its Temporal history and evidence database (default .governor)
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { evalPassed } from 'governor';
import { issueConsoleToken, modelChoiceFromEnv, type ModelChoice } from 'governor/client';
import { startReviewConsole } from 'governor/console';
import { ModelDouble, startDevServer } from 'governor/testing';
import {
  AesGcmPayloadCodec,
  BreakerRegistry,
  codecKeysFromEnv,
  createGovernorWorker,
  createProviders,
  installRuntime,
  providersConfigFromEnv,
  loopbackMetricsAddress,
  moveLabel,
  recordEvalResult,
  registerPrompt,
  rollbackLabel,
  startCodecServer,
  startMetricsServer,
  tracingFromEnv,
  type Store,
  type CodecKeys,
  type ProvidersConfig,
} from 'governor/worker';
import { SupportClient } from '../examples/support/client.js';
import type { TriageState } from '../examples/support/contracts/triage.js';
import type { SupportAgentState } from '../examples/support/definitions.js';
import type { DocumentResult } from '../examples/support/contracts/document.js';
import { supportSearchAttributes } from '../examples/support/definitions.js';
import { governorResponder } from '../examples/support/double/agent-responders.js';
import { runEvalSuites } from '../examples/support/evals/run.js';
import { SUITES } from '../examples/support/evals/suites.js';
import { classifierRecord, supportTicketClassifier } from '../examples/support/prompts/support-ticket-classifier.js';
import { openSupportStore, SUPPORT_READS, SUPPORT_WORKFLOWS_PATH, supportActivities } from '../examples/support/setup.js';
import { SUPPORT_TOOLS } from '../examples/support/tools.js';
import { preferredPort } from '../workers/server.js';

const REVIEWER = 'usr_442';

function pad(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
}

function decisionOf(state: TriageState): string {
  if (state.phase === 'awaiting_review') return `sent to review (${state.pendingReview?.reason ?? '?'})`;
  if (state.outcome === 'escalated') return 'escalated';
  if (state.outcome === 'auto_applied') return 'auto-applied';
  return state.outcome ?? state.phase;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { exit: { type: 'boolean' }, tickets: { type: 'string' }, complaints: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) {
    process.stdout.write('usage: npm run demo -- [--exit] [--tickets examples/support/tickets] [--complaints examples/support/complaints]\n');
    return;
  }
  // The SDK's metrics and Governor's workflow metrics (runs by outcome, schema failures, tokens, cost, latency), served
  // with the process and breaker metrics on one endpoint.
  const runtimeMetrics = await loopbackMetricsAddress();
  installRuntime(undefined, undefined, { metricsAddress: runtimeMetrics });
  const home = resolve(process.env.GOVERNOR_HOME ?? '.governor');
  await mkdir(home, { recursive: true });

  let providersConfig: ProvidersConfig = providersConfigFromEnv();
  let double: ModelDouble | undefined;
  let banner: string;
  if (!providersConfig.anthropic && !providersConfig.openai) {
    double = await ModelDouble.start({ fallback: governorResponder });
    providersConfig = { anthropic: { apiKey: 'model-double', baseURL: double.anthropicBaseURL } };
    banner = `OFFLINE: no ANTHROPIC_API_KEY or OPENAI_API_KEY is set, so answers come from the local model double at ${double.url}\n` +
      '(deterministic keyword classifications, through the real Anthropic SDK). Set a key to use a real provider.';
  } else {
    const choice = modelChoiceFromEnv();
    const model = { provider: choice.provider, model: choice.model ?? supportTicketClassifier.models[choice.provider as 'anthropic'] ?? '(the prompt has no default for it)' };
    const base = model.provider === 'anthropic' ? providersConfig.anthropic?.baseURL : providersConfig.openai?.baseURL;
    banner = `LIVE: classifying with ${model.provider} model ${model.model}${base ? ` at ${base}` : ''}.`;
  }
  process.stdout.write(`\nGovernor demo: governed support-ticket triage on Temporal\n${banner}\n\n`);

  // Payloads are encrypted in history (AES-256-GCM) with a key kept in the demo's home; the Web UI decodes them through
  // the codec server for whoever signs in with the token beside it.
  const codec = new AesGcmPayloadCodec(await demoCodecKeys(home));
  const codecToken = await demoSecret(join(home, 'codec-token'), () => randomBytes(24).toString('base64url'));
  const uiPort = await preferredPort(8233);
  const codecServer = await startCodecServer({
    codec,
    token: codecToken,
    corsOrigins: [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`],
    port: await preferredPort(8888),
  });
  // OpenTelemetry, when the standard variables name a collector.
  const tracing = tracingFromEnv(process.env, 'governor-demo');

  const server = await startDevServer({
    port: await preferredPort(7233),
    ui: true,
    uiPort,
    uiCodecEndpoint: codecServer.url,
    dbFile: join(home, 'temporal.db'),
    searchAttributes: Object.values(supportSearchAttributes),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const store = await openSupportStore({ dataDir: join(home, 'pgdata') });
  const breakers = new BreakerRegistry();
  const client = await SupportClient.connect({ address: server.address, codec, tracing });
  // Offline, every run uses the double, which speaks the Anthropic API; online, the environment's choice.
  const model: ModelChoice | undefined = double ? { provider: 'anthropic', model: null } : undefined;
  const worker = await createGovernorWorker({
    address: server.address,
    activities: supportActivities({ providers: createProviders(providersConfig), store, breakers, temporal: client.client }),
    reads: SUPPORT_READS,
    workflows: { workflowsPath: SUPPORT_WORKFLOWS_PATH },
    codec,
    tracing,
  });
  // The reviewer console, signed with a secret kept in the demo's home; the demo prints a sign-in token for the reviewer.
  const consoleSecret = process.env.GOVERNOR_CONSOLE_SECRET || (await demoSecret(join(home, 'console-secret'), () => randomBytes(32).toString('hex')));
  const reviewConsole = await startReviewConsole({ governor: client, secret: consoleSecret, store, port: await preferredPort(8080), temporalUiUrl: server.uiUrl ?? undefined });
  const metrics = await startMetricsServer(breakers, { port: await preferredPort(9464), store, runtimeMetrics: `http://${runtimeMetrics}/metrics`, registries: [reviewConsole.registry] });
  const running = worker.run();
  const shutdown = async () => {
    await client.close();
    await worker.shutdown();
    await running.catch(() => undefined);
    await metrics.close();
    await reviewConsole.close();
    await codecServer.close();
    await tracing?.shutdown();
    await store.close();
    await server.stop();
    await double?.close();
  };

  try {
    const dir = resolve(values.tickets ?? 'examples/support/tickets');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
    // A fresh suffix per demo run: the same event id twice would (correctly) return the earlier run instead.
    const stamp = Date.now().toString(36);
    const runs: Array<{ workflowId: string; runId: string | null; subject: string; ticketId: string }> = [];
    for (const file of files) {
      const event = JSON.parse(await readFile(join(dir, file), 'utf8')) as { event_id: string; ticket: { id: string; subject: string } };
      event.event_id = `${event.event_id}_${stamp}`;
      const started = await client.startTriage(event, { reviewers: [REVIEWER], reviewDeadline: '24h' }, model);
      runs.push({ workflowId: started.workflowId, runId: started.runId, subject: event.ticket.subject, ticketId: event.ticket.id });
    }
    process.stdout.write(`triaging ${runs.length} tickets from ${dir} …\n\n`);

    const states = new Map<string, TriageState>();
    const deadline = Date.now() + 180_000;
    while (states.size < runs.length && Date.now() < deadline) {
      for (const run of runs) {
        if (states.has(run.workflowId)) continue;
        const state = await client.triageState(run.workflowId).catch(() => undefined);
        if (state && (state.phase === 'completed' || state.phase === 'awaiting_review')) states.set(run.workflowId, state);
      }
      await new Promise((r) => setTimeout(r, 200));
    }

    const header = `${pad('TICKET', 10)} ${pad('SUBJECT', 28)} ${pad('CATEGORY', 9)} ${pad('URGENCY', 8)} ${pad('CONF', 5)} ${pad('DECISION', 32)} EVIDENCE`;
    process.stdout.write(`${header}\n${'-'.repeat(header.length + 40)}\n`);
    for (const run of runs) {
      const s = states.get(run.workflowId);
      const c = s?.classification;
      process.stdout.write(
        `${pad(run.ticketId, 10)} ${pad(run.subject, 28)} ${pad(c?.category ?? '-', 9)} ${pad(c?.urgency ?? '-', 8)} ${pad(c ? c.confidence.toFixed(2) : '-', 5)} ${pad(s ? decisionOf(s) : 'still running', 32)} ${s?.evidenceIds.join(', ') || '-'}\n`,
      );
      process.stdout.write(`${' '.repeat(11)}${server.uiUrl}/namespaces/default/workflows/${encodeURIComponent(run.workflowId)}/${run.runId ?? ''}/history\n`);
    }

    const complaints = await runComplaints(client, resolve(values.complaints ?? 'examples/support/complaints'), stamp, model);
    await runAgentTask(client, stamp, model);
    await runDocument(client, resolve('examples/support/documents/refund-policy.md'), stamp);
    // Offline only: an eval calls the model a few hundred times, which with a real key costs money.
    if (double) await promptPromotionAndRollback(client, store, stamp);

    const waiting = runs.filter((r) => states.get(r.workflowId)?.phase === 'awaiting_review');
    // The CLI reads encrypted payloads with the demo's keys (GOVERNOR_CODEC_KEYS_FILE), from another terminal too.
    const keyFile = relative(process.cwd(), join(home, 'codec-keys'));
    const keysEnv = process.env.GOVERNOR_CODEC_KEYS ? '' : `GOVERNOR_CODEC_KEYS_FILE=${keyFile.startsWith('..') ? join(home, 'codec-keys') : keyFile} `;
    const env = `${server.address === '127.0.0.1:7233' ? '' : `TEMPORAL_ADDRESS=${server.address} `}${keysEnv}`;
    process.stdout.write(`\n${waiting.length} triage run(s) wait for a reviewer. Web UI: ${server.uiUrl}\n`);
    // The console's sign-in token for the demo's reviewer, who may review and approve held actions.
    const secretFile = relative(process.cwd(), join(home, 'console-secret')).startsWith('..') ? join(home, 'console-secret') : relative(process.cwd(), join(home, 'console-secret'));
    const { token } = await issueConsoleToken(consoleSecret, { reviewerId: REVIEWER, roles: ['reviewer', 'approver'], ttl: '7d' });
    process.stdout.write(
      [
        `Reviewer console: ${reviewConsole.url}  (decide the waiting runs there; j/k move, Enter opens, a approve, c correct, r reject)`,
        `  sign in as ${REVIEWER} with this token:`,
        `  ${token}`,
        `  another person's token: GOVERNOR_CONSOLE_SECRET=$(cat ${secretFile}) npm run governor -- console token --reviewer usr_7 --role reviewer`,
        '',
      ].join('\n'),
    );
    if (waiting[0]) {
      process.stdout.write(
        values.exit
          ? 'Approve one (run `npm run demo` without --exit: the server stops with this demo):\n'
          : 'Approve one (in another terminal, while this demo runs):\n',
      );
      process.stdout.write(`  ${env}npm run governor -- approve ${waiting[0].workflowId} --reviewer ${REVIEWER}\n`);
      process.stdout.write(`List them: ${env}npm run governor -- pending    Inspect one: ${env}npm run governor -- status <workflowId>\n`);
      const metricsEnv = metrics.url === 'http://127.0.0.1:9464' ? '' : `GOVERNOR_METRICS_URL=${metrics.url} `;
      process.stdout.write(`Circuit breakers: ${metricsEnv}npm run governor -- breakers\n`);
    }
    process.stdout.write(
      [
        '',
        'Operations:',
        `  Metrics   ${metrics.url}/metrics  (Prometheus: runs by outcome, reviews, schema failures, tokens, cost, latency, breakers, process)`,
        `  Traces    ${tracing ? `exported over OTLP to ${process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_ENDPOINT}` : 'off; set OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 to export them to a collector'}`,
        `  Payloads  encrypted in history (AES-256-GCM, key ${codec.currentKeyId}); codec server ${codecServer.url}, the Web UI's codec endpoint:`,
        `            sign in at ${codecServer.url}/login with the token in ${join(home, 'codec-token')}, then tick "include cross-origin credentials"`,
        '            in the Web UI\'s codec settings to read decoded payloads',
        '',
      ].join('\n'),
    );
    const metricsEnv = metrics.url === 'http://127.0.0.1:9464' ? '' : `GOVERNOR_METRICS_URL=${metrics.url} `;
    const shown = complaints.find((c) => c.humanAsked) ?? complaints[0];
    if (shown) {
      process.stdout.write(`\nEvidence of a complaint run, as a table:  ${metricsEnv}npm run governor -- evidence ${shown.workflowId}\n`);
      process.stdout.write(`Check every evidence hash chain:          ${metricsEnv}npm run governor -- verify\n`);
      if (shown.humanAsked) process.stdout.write(`Close what was escalated to a human:      ${env}npm run governor -- resolve ${shown.workflowId} --reviewer ${REVIEWER} --note "refund declined"\n`);
    }
    if (values.exit) return;

    process.stdout.write('\nServing the worker for reviews; Ctrl+C stops.\n');
    const open = new Set(waiting.map((w) => w.workflowId));
    let stop = false;
    process.once('SIGINT', () => (stop = true));
    process.once('SIGTERM', () => (stop = true));
    while (!stop) {
      for (const id of [...open]) {
        const state = await client.triageState(id).catch(() => undefined);
        if (state?.phase === 'completed') {
          open.delete(id);
          process.stdout.write(`${id}: ${state.outcome} by ${state.review?.reviewerId ?? 'deadline'}; evidence ${state.evidenceIds.join(', ') || '-'}\n`);
        }
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await shutdown();
  }
}

/** One investigation by the bounded support agent: its turns, as the workflow recorded them. */
async function runAgentTask(client: SupportClient, stamp: string, model: ModelChoice | undefined): Promise<void> {
  const event = {
    event: 'support_agent.requested',
    event_id: `evt_agent_demo_${stamp}`,
    created_at: new Date().toISOString(),
    ticket_id: 'tkt_9041',
    customer_id: 'cus_1188',
    task: 'Investigate the duplicate charge after the upgrade and note the findings on the ticket. Related tickets: tkt_9042, tkt_9046.',
    pinned: ['Case reference REF-DEMO1 goes in every note.'],
  };
  process.stdout.write('\nsupport agent: one investigation, one governed move per turn (resolve, read, gather, prepare, execute, confirm) …\n\n');
  const started = await client.start('supportAgent', event, { turnsPerRun: 5 }, model ? { model } : {});
  const state = await client.result<SupportAgentState>(started.workflowId);
  const a = state.agent;
  // Each run's state holds its own turns: read the earlier runs' too (queries work on closed runs).
  const earlier = await Promise.all(a.previousRuns.map((runId) => client.client.workflow.getHandle(started.workflowId, runId).query<SupportAgentState>('state')));
  for (const t of [...earlier.flatMap((e) => e.agent.turns), ...a.turns]) {
    process.stdout.write(`  turn ${String(t.n).padStart(2)}  ${pad(t.phase, 8)} ${pad(t.tool ?? t.action, 22)} ${pad(t.status, 8)} ${t.evidenceId ?? ''}\n`);
  }
  process.stdout.write(
    `  stop: ${a.stop} after ${a.turn} turns in ${a.previousRuns.length + 1} runs (continued as new every 5 turns); $${a.spent.usd.toFixed(4)}, ${a.spent.tokens} tokens\n` +
      `  answer: ${a.answer ?? '-'}\n  every turn of every run: npm run governor -- status ${started.workflowId}\n`,
  );
}

/** One document through the pipeline: split, chunks summarised in parallel with fallback, merged; per chunk, which model. */
async function runDocument(client: SupportClient, file: string, stamp: string): Promise<void> {
  const text = await readFile(file, 'utf8');
  const event = { event: 'document.submitted', event_id: `evt_doc_demo_${stamp}`, created_at: new Date().toISOString(), document_id: `doc_policy_${stamp}`, title: text.split('\n')[0]!, text };
  process.stdout.write(`\ndocument pipeline: ${relative(process.cwd(), file)} split into chunks, summarised 3 at a time with the fallback chain, merged …\n\n`);
  const started = await client.start('documentPipeline', event, { chunkChars: 600, concurrency: 3 });
  const result = await client.result<DocumentResult>(started.workflowId);
  result.models.forEach((m, i) => process.stdout.write(`  chunk ${String(i + 1).padStart(2)}  ${m ? `summarised by ${m}` : 'MISSING'}\n`));
  process.stdout.write(`  ${result.chunks} chunks, ${result.missing.length} missing, $${result.usd.toFixed(4)}; each chunk: npm run governor -- status ${started.workflowId}\n`);
}

interface ComplaintRun {
  readonly workflowId: string;
  readonly humanAsked: boolean;
}

/** Starts each complaint event in `dir`, waits until it finishes or needs a human, and prints what the evidence says. */
async function runComplaints(client: SupportClient, dir: string, stamp: string, model: ModelChoice | undefined): Promise<ComplaintRun[]> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.json')).sort();
  if (files.length === 0) return [];
  process.stdout.write(`\nescalating ${files.length} complaints from ${dir} (the model proposes; policy, approvals, leases and evidence decide) …\n\n`);
  const started: Array<{ workflowId: string; id: string }> = [];
  for (const file of files) {
    const event = JSON.parse(await readFile(join(dir, file), 'utf8')) as { event_id: string; complaint: { id: string } };
    event.event_id = `${event.event_id}_${stamp}`;
    const run = await client.startComplaint(event, { approvers: [REVIEWER] }, model);
    started.push({ workflowId: run.workflowId, id: event.complaint.id });
  }
  const header = `${pad('COMPLAINT', 10)} ${pad('ESCALATE', 9)} ${pad('EMAIL', 9)} ${pad('ACTIONS (from evidence)', 52)} OUTCOME`;
  process.stdout.write(`${header}\n${'-'.repeat(header.length + 20)}\n`);
  const result: ComplaintRun[] = [];
  for (const run of started) {
    const deadline = Date.now() + 120_000;
    let state = await client.complaintState(run.workflowId).catch(() => undefined);
    while (Date.now() < deadline && !(state && ['completed', 'awaiting_human', 'awaiting_approval'].includes(state.phase))) {
      await new Promise((r) => setTimeout(r, 200));
      state = await client.complaintState(run.workflowId).catch(() => undefined);
    }
    const writes = (state?.evidence ?? []).filter((e) => SUPPORT_TOOLS[e.tool]?.kind === 'write');
    const actions = writes.map((e) => `${e.tool}:${e.status}`).join(', ') || '-';
    const outcome = state?.phase === 'awaiting_human' ? `human asked: ${state.humanTasks.map((t) => t.detail).join('; ')}` : (state?.outcome ?? state?.phase ?? 'still running');
    const email = writes.some((e) => e.tool === 'send_escalation_email' && e.status === 'success') ? 'sent' : 'not sent';
    process.stdout.write(`${pad(run.id, 10)} ${pad(String(state?.decision?.escalate ?? '-'), 9)} ${pad(email, 9)} ${pad(actions, 52)} ${outcome}\n`);
    result.push({ workflowId: run.workflowId, humanAsked: state?.phase === 'awaiting_human' });
  }
  return result;
}

await main();

/** A secret kept in the demo's home, made on first use and readable by this user only. */
async function demoSecret(file: string, make: () => string): Promise<string> {
  const existing = await readFile(file, 'utf8').catch(() => '');
  if (existing.trim()) return existing.trim();
  const value = make();
  await writeFile(file, `${value}\n`, { mode: 0o600 });
  return value;
}

/** The demo's payload keys: GOVERNOR_CODEC_KEYS when set, else one made on first use in the demo's home. */
async function demoCodecKeys(home: string): Promise<CodecKeys> {
  const listed = process.env.GOVERNOR_CODEC_KEYS || (await demoSecret(join(home, 'codec-keys'), () => `demo:${randomBytes(32).toString('base64')}`));
  return codecKeysFromEnv({ GOVERNOR_CODEC_KEYS: listed, GOVERNOR_CODEC_KEY_ID: process.env.GOVERNOR_CODEC_KEY_ID })!;
}

/**
 * The prompt registry at work: a candidate version is evaluated on every suite through the real governed step,
 * promoted to production (the next run uses it, no restart), then rolled back (the next run uses the old one).
 */
async function promptPromotionAndRollback(client: SupportClient, store: Store, stamp: string): Promise<void> {
  const current = classifierRecord.version;
  const candidate = { ...classifierRecord, version: `${current}-demo`, system: `${classifierRecord.system}\nKeep the reason to one sentence.`, rollbackVersion: current };
  await registerPrompt(store, candidate, 'demo');
  process.stdout.write(`\nprompt registry: ${classifierRecord.name}@${current} is in production; evaluating ${candidate.version} on every suite …\n`);
  const scores = await runEvalSuites({ client: client.client, taskQueue: client.taskQueue, prompt: candidate, suites: SUITES, chain: [{ provider: 'anthropic', model: candidate.models.anthropic ?? supportTicketClassifier.models.anthropic }] });
  for (const score of scores) await recordEvalResult(store, { name: candidate.name, version: candidate.version, suite: score.suite, cases: score.cases, metrics: score.metrics, actor: 'demo' });
  const golden = scores.find((s) => s.suite === 'golden')!;
  const figure = (name: string) => {
    const m = golden.metrics.find((x) => x.name === name);
    return m?.value === null || m === undefined ? '-' : `${(m.value * 100).toFixed(0)}%`;
  };
  process.stdout.write(
    `  eval: ${scores.every((s) => evalPassed(s.metrics)) ? 'passed' : 'FAILED'} (golden, ${golden.cases} Banking77 queries: category ${figure('category accuracy')}, urgency ${figure('urgency accuracy')}, valid JSON ${figure('valid-JSON rate')})\n`,
  );
  const ticket = (n: number) => ({ ...ticketEvent(n), event_id: `evt_prompt${n}_${stamp}` });
  await moveLabel(store, { name: candidate.name, label: 'production', version: candidate.version, actor: REVIEWER, reason: 'demo: shorter reasons' });
  const promoted = await client.triageResult((await client.startTriage(ticket(1), { reviewers: [REVIEWER] })).workflowId);
  process.stdout.write(`  promoted ${candidate.version} to production: the next run used ${promoted.prompt.version} (no restart)\n`);
  await rollbackLabel(store, { name: candidate.name, label: 'production', actor: REVIEWER, reason: 'demo: back to the shipped version' });
  const rolledBack = await client.triageResult((await client.startTriage(ticket(2), { reviewers: [REVIEWER] })).workflowId);
  process.stdout.write(`  rolled back to ${current}: the next run used ${rolledBack.prompt.version}; history: npm run governor -- prompts history (with DATABASE_URL)\n`);
}

/** A confident how-to ticket, which the classifier applies on its own. */
function ticketEvent(n: number) {
  return {
    event: 'support_ticket.created',
    event_id: `evt_prompt${n}`,
    created_at: new Date().toISOString(),
    ticket: { id: `tkt_prompt${n}`, subject: 'Auto top up', body: `How do I use auto top up? (${n})`, channel: 'email', language: 'en' },
    customer: { id: 'cus_1188', plan: 'pro', arr: 2400, region: 'us' },
  };
}
