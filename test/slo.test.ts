import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { defineSlo, sloRuleGroups } from 'governor';
import { sloRulesYaml } from 'governor/client';
import { freePort } from 'governor/testing';
import {
  controlChanges,
  createSloMonitor,
  installRuntime,
  loopbackMetricsAddress,
  readControls,
  readRollout,
  recordEvalResult,
  registerPrompt,
  setControl,
  setRollout,
  startMetricsServer,
  type MetricsServer,
} from 'governor/worker';
import { classifierRecord } from '../examples/support/prompts/support-ticket-classifier.js';
import { SUPPORT_SLOS } from '../examples/support/slos.js';
import { governorCli as cli } from './helpers/cli.js';
import { eventually, startHarness, ticketEvent, type Harness } from './helpers/harness.js';
import { launchChromium } from './helpers/browser.js';
import { promtool, startPrometheus, type Prometheus } from './helpers/prometheus.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VALID = { category: 'billing', urgency: 'high', confidence: 0.95, reason: 'charged twice' };
const candidate = { ...classifierRecord, version: `${classifierRecord.version}-slo`, system: `${classifierRecord.system}\nCandidate.` };

describe('SLO rules', () => {
  it('promtool accepts the generated recording and alerting rules, and the deployed file is the generated one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'governor-slo-rules-'));
    try {
      const file = join(dir, 'rules.yml');
      await writeFile(file, sloRulesYaml(SUPPORT_SLOS));
      const checked = promtool(['check', 'rules', file]);
      assert.equal(checked.code, 0, checked.output);
      assert.match(checked.output, /SUCCESS: \d+ rules found/);
      // Five SLOs: five windows recorded each, two burn-rate alerts and the budget alert.
      assert.equal(Number(/SUCCESS: (\d+) rules found/.exec(checked.output)?.[1]), SUPPORT_SLOS.length * 8);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const deployed = await readFile(join(ROOT, 'deploy/prometheus/slo-rules.yml'), 'utf8');
    assert.equal(deployed, sloRulesYaml(SUPPORT_SLOS.map((s) => ({ ...s, onBreach: s.onBreach.filter((a) => a.kind !== 'webhook') }))), 'regenerate with `npm run governor -- slo --rules`');
  });
});

describe('SLOs on a real Prometheus: budgets burn, breach actions run', () => {
  let h: Harness;
  let metrics: MetricsServer;
  let prometheus: Prometheus;
  let hooks: Server;
  const received: Array<Record<string, unknown>> = [];
  let hookUrl: string;
  const slo = () =>
    defineSlo({
      name: 'triage_schema_failures_test',
      workflow: 'supportTicketTriage',
      description: 'Classifier replies failing validation stay under 10 %',
      objective: 0.9,
      window: '2m',
      sli: { kind: 'ratio', metric: 'governor_model_calls_total', bad: { valid: 'false' } },
      onBreach: [{ kind: 'review_only' }, { kind: 'freeze_rollout' }, { kind: 'webhook', url: hookUrl }],
    });

  before(async () => {
    hooks = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body) as Record<string, unknown>);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/slo`;
    const runtime = await loopbackMetricsAddress();
    installRuntime('ERROR', undefined, { metricsAddress: runtime });
    h = await startHarness();
    metrics = await startMetricsServer(h.breakers, { port: await freePort(), runtimeMetrics: `http://${runtime}/metrics` });
    prometheus = await startPrometheus({ targets: [new URL(metrics.url).host], rules: sloRuleGroups([slo()]) });
  });
  after(async () => {
    await prometheus?.stop();
    await metrics?.close();
    await h?.close();
    await new Promise((r) => hooks?.close(r));
  });

  it('invalid replies burn the budget: the rules record it, the alert fires, the run after is review-only', async () => {
    // Runs spread over several scrapes, half of the model's replies invalid (each repaired), until the recording
    // rule sees them (a counter's first increments before Prometheus first scrapes it are not a rate yet).
    let recorded: number | undefined;
    for (let i = 0; i < 20 && recorded === undefined; i++) {
      h.double.enqueue({ kind: 'text', text: 'not json' }, { kind: 'json', value: VALID });
      const run = await h.client.startTriage(ticketEvent());
      assert.equal((await h.client.triageResult(run.workflowId)).outcome, 'escalated', 'repaired and applied');
      await new Promise((r) => setTimeout(r, 1_200));
      const [sample] = await prometheus.query('governor_slo:error_ratio:rate2m{slo="triage_schema_failures_test"}');
      if (sample && Number(sample.value[1]) > 0.1) recorded = Number(sample.value[1]);
    }
    assert.ok(recorded !== undefined, 'the recording rule saw the failures');
    assert.ok(recorded > 0.1 && recorded <= 1, `error ratio ${recorded}`);
    await eventually('the budget alert to fire', async () => {
      const alerts = await prometheus.query('ALERTS{alertname="GovernorSloBudgetSpent",alertstate="firing"}');
      return alerts.find((a) => a.metric.slo === 'triage_schema_failures_test');
    });

    // A candidate prompt in rollout when the budget is spent is demoted.
    await registerPrompt(h.store, candidate, 'usr_ops');
    await recordEvalResult(h.store, { name: candidate.name, version: candidate.version, suite: 'golden', cases: 1, metrics: [{ name: 'category accuracy', value: 1, target: 0.4, direction: 'min' as const, gated: true, unit: 'ratio' as const }], actor: 'test' });
    await setRollout(h.store, { workflowType: 'supportTicketTriage', promptName: candidate.name, candidateVersion: candidate.version, stage: 'partial', share: 0.2, actor: 'usr_ops', reason: 'try it' });
    const monitor = createSloMonitor({ slos: [slo()], prometheusUrl: prometheus.url, store: h.store });
    const [status] = await monitor.evaluate();
    assert.equal(status?.breached, true);
    assert.ok((status?.budgetLeft ?? 1) < 0, 'the budget is spent');
    assert.deepEqual(await readControls(h.store, 'supportTicketTriage'), { reviewOnly: true, fallbackChain: false, rolloutFrozen: true });
    assert.equal(await readRollout(h.store, 'supportTicketTriage'), null, 'the candidate was demoted');
    const [change] = await controlChanges(h.store, 'supportTicketTriage');
    assert.deepEqual([change?.control, change?.from, change?.to, change?.actor], ['review_only', false, true, 'slo:triage_schema_failures_test']);
    assert.match(change!.reason, /error budget spent/);
    await eventually('the webhook', async () => received.find((r) => r.event === 'slo_breached'));
    assert.equal(received[0]?.name, 'triage_schema_failures_test');

    // A second evaluation (another worker's monitor, say) acts on nothing new.
    await monitor.evaluate();
    assert.equal((await controlChanges(h.store)).length, 2, 'review_only and rollout_frozen, once each');
    assert.equal(received.length, 1);

    // A valid, confident answer now waits for a person instead of being applied.
    h.double.enqueue({ kind: 'json', value: VALID });
    const held = await h.client.startTriage(ticketEvent(), { reviewers: ['usr_442'] });
    const state = await eventually('the review-only run', async () => {
      const s = await h.client.triageState(held.workflowId);
      return s.phase === 'awaiting_review' ? s : undefined;
    });
    assert.equal(state.pendingReview?.reason, 'review_only');
    assert.equal(state.controls?.reviewOnly, true);
    await h.client.review(held.workflowId, { action: 'approve', reviewerId: 'usr_442' });

    // Every query of the provisioned Grafana dashboard is PromQL this Prometheus evaluates.
    const dashboard = JSON.parse(await readFile(join(ROOT, 'deploy/grafana/dashboards/governor.json'), 'utf8')) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }> };
    for (const panel of dashboard.panels) {
      for (const t of panel.targets ?? []) {
        const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(t.expr.replaceAll('$workflow', '.*'))}`);
        assert.equal(res.status, 200, `${panel.title}: ${t.expr}: ${await res.text()}`);
      }
    }

    // `governor slo` reports the support SLOs from the same Prometheus.
    const report = await cli(['slo', '--prometheus', prometheus.url]);
    assert.equal(report.code, 0, report.stderr);
    const row = report.stdout.split('\n').find((l) => l.startsWith('triage_schema_failures '));
    assert.ok(row, report.stdout);
    assert.match(row, /supportTicketTriage\s+99\.000%\s+7d\s+\d+\.\d+%\s+-\d+\.\d%\s+\S+\s+BREACHED\s+review_only, freeze_rollout/);
    const json = await cli(['slo', '--prometheus', prometheus.url, '--json']);
    const parsed = JSON.parse(json.stdout) as Array<{ name: string; objective: number; budgetLeft: number | null; burnRate1h: number | null }>;
    assert.ok((parsed.find((s) => s.name === 'triage_schema_failures')?.burnRate1h ?? 0) > 1, 'burning faster than the budget allows');
    const down = await cli(['slo', '--prometheus', `http://127.0.0.1:${await freePort()}`]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach Prometheus/);

    // The budget recovers (here: the objective is relaxed): the control is lifted and recorded, the webhook told.
    const relaxed = createSloMonitor({ slos: [{ ...slo(), objective: 0.01 }], prometheusUrl: prometheus.url, store: h.store });
    await relaxed.evaluate();
    assert.equal((await readControls(h.store, 'supportTicketTriage')).reviewOnly, false);
    const changes = await controlChanges(h.store, 'supportTicketTriage');
    assert.deepEqual([changes[2]?.control, changes[2]?.to, changes[2]?.reason], ['review_only', false, 'error budget recovered']);
    await eventually('the recovery webhook', async () => received.find((r) => r.event === 'slo_recovered'));
  });

  it('governor report and governor slo: tables in the terminal, and pages with the same figures in Chromium', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'governor-report-'));
    const { browser, close } = await launchChromium();
    try {
      const json = await cli(['report', '--prometheus', prometheus.url, '--hours', '1', '--json']);
      assert.equal(json.code, 0, json.stderr);
      const report = JSON.parse(json.stdout) as { workflows: Array<{ workflow: string; runs: number; reviewed: number; costUsd: number; byOutcome: Record<string, number> }> };
      const triage = report.workflows.find((w) => w.workflow === 'supportTicketTriage');
      assert.ok(triage && triage.runs > 0 && triage.costUsd > 0, json.stdout);
      assert.ok((triage.byOutcome.escalated ?? 0) > 0, 'the repaired runs escalated');

      const file = join(dir, 'report.html');
      const table = await cli(['report', '--prometheus', prometheus.url, '--hours', '1', '--html', file]);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /^runs finished in the last 1h/m);
      assert.match(table.stdout, new RegExp(`^supportTicketTriage\\s+${triage.runs}\\s`, 'm'));
      assert.match(table.stdout, new RegExp(`wrote ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));

      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(`file://${file}`);
      assert.deepEqual(requests, [`file://${file}`], 'self-contained: nothing else is fetched');
      const totals = await page.locator('#totals').innerText();
      assert.match(totals, new RegExp(`^${report.workflows.reduce((n, w) => n + w.runs, 0)} runs finished, ${report.workflows.reduce((n, w) => n + w.reviewed, 0)} reviewed`));
      const row = await page.locator('#workflows tbody tr', { hasText: 'supportTicketTriage' }).locator('td').allInnerTexts();
      assert.equal(row[1], String(triage.runs));
      assert.ok((await page.locator('svg rect.bar').count()) > 0, 'the charts have bars');
      assert.equal(await page.locator('figcaption').first().innerText().then((t) => t.startsWith('Runs finished per')), true);

      const sloFile = join(dir, 'slo.html');
      const slo = await cli(['slo', '--prometheus', prometheus.url, '--html', sloFile]);
      assert.equal(slo.code, 0, slo.stderr);
      await page.goto(`file://${sloFile}`);
      const sloRow = await page.locator('#slos tbody tr', { hasText: 'triage_schema_failures' }).first().locator('td').allInnerTexts();
      assert.equal(sloRow[7], 'BREACHED');
      assert.equal(await page.locator('#slos td.breached').first().evaluate((td) => (globalThis as unknown as { getComputedStyle(e: unknown): { color: string } }).getComputedStyle(td).color), 'rgb(185, 28, 28)');
    } finally {
      await close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a fallback-chain control starts new runs at the fallback; a run keeps the controls it started under', async () => {
    const chain = [
      { provider: 'anthropic', model: 'claude-haiku-4-5' },
      { provider: 'openai', model: 'gpt-4o-mini' },
    ];
    await setControl(h.store, { workflowType: 'supportTicketTriage', control: 'fallback_chain', value: true, actor: 'usr_ops', reason: 'provider incident' });
    try {
      const run = await h.client.startTriage(ticketEvent(), { modelChain: chain });
      await h.client.triageResult(run.workflowId);
      const state = await h.client.triageState(run.workflowId);
      assert.equal(state.prompt?.provider, 'openai');
      assert.deepEqual(state.modelCalls.map((c) => c.provider), ['openai'], 'the primary was never called');
      assert.equal(state.controls?.fallbackChain, true);
    } finally {
      await setControl(h.store, { workflowType: 'supportTicketTriage', control: 'fallback_chain', value: false, actor: 'usr_ops', reason: 'incident over' });
    }
    const normal = await h.client.startTriage(ticketEvent(), { modelChain: chain });
    await h.client.triageResult(normal.workflowId);
    assert.deepEqual((await h.client.triageState(normal.workflowId)).modelCalls.map((c) => c.provider), ['anthropic']);
  });
});
