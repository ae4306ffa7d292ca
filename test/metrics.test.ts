import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from 'governor/testing';
import { issueConsoleToken } from 'governor/client';
import { startReviewConsole, type ReviewConsole } from 'governor/console';
import { gradeRun, installRuntime, loopbackMetricsAddress, queueForGrading, startMetricsServer, type MetricsServer } from 'governor/worker';
import { eventually, startHarness, ticketEvent, type Harness } from './helpers/harness.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VALID = { category: 'billing', urgency: 'high', confidence: 0.95, reason: 'charged twice' };

/** The sum of a metric's samples whose labels include every one of `labels`. */
function sum(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? ([-+\d.eE]+|NaN)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) total += Number(m[3]);
  }
  return total;
}

describe('metrics: one Prometheus endpoint per worker', () => {
  let h: Harness;
  let url: string;
  let server: MetricsServer;
  let reviewConsole: ReviewConsole;
  const secret = 'metrics-test-console-secret-0123456789abcdef';
  before(async () => {
    const runtime = await loopbackMetricsAddress();
    installRuntime('ERROR', undefined, { metricsAddress: runtime });
    h = await startHarness();
    reviewConsole = await startReviewConsole({ governor: h.client, secret, store: h.store });
    // Bound to every interface, as in a container: reachable at the host's address, not only on loopback. The
    // reviewer console's metrics are served with the worker's.
    server = await startMetricsServer(h.breakers, { host: '0.0.0.0', port: await freePort(), runtimeMetrics: `http://${runtime}/metrics`, registries: [reviewConsole.registry] });
    url = `http://127.0.0.1:${new URL(server.url).port}/metrics`;
  });
  after(async () => {
    await server?.close();
    await reviewConsole?.close();
    await h?.close();
  });

  it('after a few runs the values are right: outcomes, schema failures, repairs, tokens, latency, SDK metrics', async () => {
    const triage = 'supportTicketTriage';
    for (let i = 0; i < 2; i++) await h.client.triageResult((await h.client.startTriage(ticketEvent({ subject: 'Auto top up', body: 'How do I use auto top up?' }))).workflowId);
    h.double.enqueue({ kind: 'text', text: 'not json' }, { kind: 'json', value: VALID });
    await h.client.triageResult((await h.client.startTriage(ticketEvent())).workflowId);
    const review = await h.client.startTriage(ticketEvent({ subject: 'Why?', body: 'Why did I get blocked?' }), { reviewers: ['usr_442'] });
    await eventually('the review', async () => ((await h.client.triageState(review.workflowId)).phase === 'awaiting_review' ? true : undefined));
    // The console reads the queue: its size and oldest wait are metrics.
    const { token } = await issueConsoleToken(secret, { reviewerId: 'usr_442', roles: ['reviewer'] });
    const queue = (await (await fetch(`${reviewConsole.url}/api/queue`, { headers: { authorization: `Bearer ${token}` } })).json()) as { items: unknown[] };
    assert.equal(queue.items.length, 1);
    await h.client.review(review.workflowId, { action: 'approve', reviewerId: 'usr_442' });
    await h.client.triageResult(review.workflowId);
    // A provider error: Temporal retries the model call, the retry is counted.
    h.double.enqueue({ kind: 'error', status: 503, message: 'overloaded' }, { kind: 'json', value: VALID });
    await h.client.triageResult((await h.client.startTriage(ticketEvent())).workflowId);
    const corrected = await h.client.startTriage(ticketEvent({ subject: 'Why?', body: 'Why did I get blocked?' }), { reviewers: ['usr_442'] });
    await eventually('the second review', async () => ((await h.client.triageState(corrected.workflowId)).phase === 'awaiting_review' ? true : undefined));
    await h.client.review(corrected.workflowId, { action: 'correct', reviewerId: 'usr_442', corrected: { category: 'account', urgency: 'low' } });
    await h.client.triageResult(corrected.workflowId);

    const text = await eventually("the runs in the metrics", async () => {
      const body = await (await fetch(url)).text();
      return sum(body, 'governor_runs_total', { workflowType: triage }) >= 6 ? body : undefined;
    });
    assert.equal(sum(text, 'governor_runs_total', { workflowType: triage, outcome: 'auto_applied' }), 2);
    assert.equal(sum(text, 'governor_runs_total', { workflowType: triage, outcome: 'escalated', escalated: 'true' }), 2);
    assert.equal(sum(text, 'governor_runs_total', { workflowType: triage, outcome: 'approved' }), 1);
    // Automation, review and override rates, by label.
    assert.equal(sum(text, 'governor_runs_total', { workflowType: triage, reviewed: 'false' }), 4, 'four ran without a person');
    assert.equal(sum(text, 'governor_runs_total', { workflowType: triage, reviewed: 'true' }), 2);
    assert.equal(sum(text, 'governor_runs_total', { workflowType: triage, reviewed: 'true', overridden: 'true' }), 1, 'one correction');
    // Cost and tokens per finished run.
    assert.equal(sum(text, 'governor_run_cost_microusd_count', { workflowType: triage }), 6);
    assert.ok(sum(text, 'governor_run_cost_microusd_sum', { workflowType: triage }) > 0);
    assert.ok(sum(text, 'governor_run_tokens_sum', { workflowType: triage }) > 0);
    // Tool calls, counted where they ran, by evidence status: six decisions applied and two escalations.
    assert.equal(sum(text, 'governor_tool_calls_total', { workflowType: triage, tool: 'apply_triage_decision', status: 'success' }), 6);
    assert.equal(sum(text, 'governor_tool_calls_total', { tool: 'create_escalation', status: 'success' }), 2);
    assert.equal(sum(text, 'governor_tool_call_latency_count', { tool: 'apply_triage_decision' }), 6);
    // The breakers and the process, on the same endpoint.
    assert.ok(sum(text, 'process_resident_memory_bytes') > 0);
    assert.ok(/^nodejs_eventloop_lag_seconds /m.test(text));
    assert.equal(sum(text, 'governor_circuit_state', { name: 'model:anthropic' }), 0, 'the provider breaker is closed');
    assert.equal(sum(text, 'governor_model_calls_total', { workflowType: triage, valid: 'false' }), 1, 'one schema failure');
    assert.equal(sum(text, 'governor_model_calls_total', { workflowType: triage, valid: 'true' }), 6);
    assert.equal(sum(text, 'governor_repairs_total', { workflowType: triage }), 1);
    assert.ok(sum(text, 'governor_tokens_total', { direction: 'input', prompt_version: 'support_ticket_classifier@2026-11-21.1' }) > 0);
    assert.ok(sum(text, 'governor_cost_microusd_total', { workflowType: triage }) > 0);
    assert.equal(sum(text, 'governor_run_latency_count', { workflowType: triage }), 6);
    assert.equal(sum(text, 'governor_run_latency_bucket', { workflowType: triage, le: '86400000' }), 6, 'the latency buckets are Governor\'s');
    assert.equal(sum(text, 'governor_model_call_latency_count', { workflowType: triage }), 7);
    assert.ok(sum(text, 'temporal_workflow_completed_total') >= 6, "the SDK's own metrics are there too");
    assert.equal(sum(text, 'governor_transport_retries_total', { workflowType: triage }), 1, 'one transport retry');

    // Time to decision (the review SLA), by decision and whether one came, on Governor's buckets.
    assert.equal(sum(text, 'governor_decision_wait_count', { workflowType: triage, decision: 'review', decided: 'true' }), 2);
    assert.equal(sum(text, 'governor_decision_wait_bucket', { workflowType: triage, le: '259200000' }), 2);
    assert.equal(sum(text, 'governor_review_queue_items', { workflowType: triage, kind: 'review' }), 1);
    assert.match(text, /^governor_review_queue_oldest_seconds\{workflowType="supportTicketTriage"\} \d/m);
    // A grade of a sampled run is counted by verdict.
    await queueForGrading(h.store, { workflowId: 'triage/graded-1', runId: 'r1', workflowType: triage, output: { category: 'how_to', urgency: 'low' }, promptVersion: 'p@1', draw: 0.01, rate: 0.02 });
    assert.equal((await gradeRun(h.store, { workflowId: 'triage/graded-1', reviewer: 'usr_442', verdict: 'incorrect', corrected: { category: 'billing', urgency: 'low' } })).status, 'accepted');
    const graded = await (await fetch(url)).text();
    assert.equal(sum(graded, 'governor_grades_total', { workflowType: triage, verdict: 'incorrect' }), 1);

    // Every metric the provisioned Grafana dashboard queries is one this endpoint exports (or one the SLO rules record).
    const exported = new Set([...graded.matchAll(/^([a-zA-Z_:][\w:]*)(?:\{| )/gm)].map((m) => m[1]!));
    const recorded = new Set([...(await readFile(join(ROOT, 'deploy/prometheus/slo-rules.yml'), 'utf8')).matchAll(/record: (\S+)/g)].map((m) => m[1]!));
    const dashboard = JSON.parse(await readFile(join(ROOT, 'deploy/grafana/dashboards/governor.json'), 'utf8')) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }> };
    const queried = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
    assert.ok(queried.length >= 15, 'the dashboard has its panels');
    for (const { panel, expr } of queried) {
      const names = [...expr.replace(/"[^"]*"/g, '""').matchAll(/\b([a-zA-Z_:][\w:]*)\s*(?=\{|\[)/g)].map((m) => m[1]!).filter((n) => !['by', 'without', 'on', 'ignoring'].includes(n));
      assert.ok(names.length > 0, `${panel}: ${expr} names a metric`);
      for (const name of names) assert.ok(exported.has(name) || recorded.has(name), `${panel}: ${name} is neither exported nor recorded`);
    }
  });
});
