import { queryRange, queryVector, type Sample } from '../workers/prometheus.js';
import type { SloStatus } from '../workers/slo-status.js';

/** What the workflows did over the last hours, per workflow type, from the metrics Prometheus scraped. */
export interface WorkflowReport {
  readonly workflow: string;
  readonly runs: number;
  readonly byOutcome: Readonly<Record<string, number>>;
  readonly reviewed: number;
  readonly overridden: number;
  readonly escalated: number;
  readonly costUsd: number;
  readonly tokens: number;
  /** Runs no person held up, start to finish. */
  readonly latencyP50Ms: number | null;
  readonly latencyP95Ms: number | null;
  readonly schemaFailureRate: number | null;
  readonly toolFailureRate: number | null;
}

export interface RunReport {
  readonly hours: number;
  readonly generatedAt: string;
  readonly workflows: readonly WorkflowReport[];
  /** Runs finished per interval, by outcome: the chart. */
  readonly runsOverTime: { readonly start: number; readonly stepSeconds: number; readonly outcomes: Readonly<Record<string, readonly number[]>> };
  /** Model spend per interval, USD. */
  readonly costOverTime: readonly number[];
}

const byWorkflow = (samples: Sample[]) => new Map(samples.map((s) => [s.labels.workflowType ?? '', s.value]));

/** Builds the report of the last `hours` from Prometheus. */
export async function buildReport(prometheusUrl: string, hours: number, now = Date.now()): Promise<RunReport> {
  const w = `${hours}h`;
  const q = (query: string) => queryVector(prometheusUrl, query);
  const [outcomes, reviewed, overridden, escalated, cost, tokens, p50, p95, schema, tools] = await Promise.all([
    q(`sum by (workflowType, outcome) (increase(governor_runs_total[${w}]))`),
    q(`sum by (workflowType) (increase(governor_runs_total{reviewed="true"}[${w}]))`),
    q(`sum by (workflowType) (increase(governor_runs_total{overridden="true"}[${w}]))`),
    q(`sum by (workflowType) (increase(governor_runs_total{escalated="true"}[${w}]))`),
    q(`sum by (workflowType) (increase(governor_cost_microusd_total[${w}])) / 1e6`),
    q(`sum by (workflowType) (increase(governor_tokens_total[${w}]))`),
    q(`histogram_quantile(0.5, sum by (le, workflowType) (increase(governor_run_latency_bucket{reviewed="false"}[${w}])))`),
    q(`histogram_quantile(0.95, sum by (le, workflowType) (increase(governor_run_latency_bucket{reviewed="false"}[${w}])))`),
    q(`sum by (workflowType) (increase(governor_model_calls_total{valid="false"}[${w}])) / sum by (workflowType) (increase(governor_model_calls_total[${w}]))`),
    q(`sum by (workflowType) (increase(governor_tool_calls_total{status!="success"}[${w}])) / sum by (workflowType) (increase(governor_tool_calls_total[${w}]))`),
  ]);
  const maps = { reviewed: byWorkflow(reviewed), overridden: byWorkflow(overridden), escalated: byWorkflow(escalated), cost: byWorkflow(cost), tokens: byWorkflow(tokens) };
  const quantiles = { p50: byWorkflow(p50), p95: byWorkflow(p95), schema: byWorkflow(schema), tools: byWorkflow(tools) };
  // increase() extrapolates to the window's edges: counts are rounded to whole runs.
  const count = (v: number | undefined) => Math.round(v ?? 0);
  const names = [...new Set(outcomes.map((s) => s.labels.workflowType ?? ''))].sort();
  const workflows = names.map((workflow): WorkflowReport => {
    const byOutcome: Record<string, number> = {};
    for (const s of outcomes) if (s.labels.workflowType === workflow && count(s.value) > 0) byOutcome[s.labels.outcome ?? ''] = count(s.value);
    return {
      workflow,
      runs: Object.values(byOutcome).reduce((a, b) => a + b, 0),
      byOutcome,
      reviewed: count(maps.reviewed.get(workflow)),
      overridden: count(maps.overridden.get(workflow)),
      escalated: count(maps.escalated.get(workflow)),
      costUsd: maps.cost.get(workflow) ?? 0,
      tokens: count(maps.tokens.get(workflow)),
      latencyP50Ms: quantiles.p50.get(workflow) ?? null,
      latencyP95Ms: quantiles.p95.get(workflow) ?? null,
      schemaFailureRate: quantiles.schema.get(workflow) ?? null,
      toolFailureRate: quantiles.tools.get(workflow) ?? null,
    };
  });

  // 24 intervals across the window, aligned so the last one ends now.
  const stepSeconds = Math.max(60, Math.round((hours * 3600) / 24));
  const end = Math.floor(now / 1000);
  const start = end - 23 * stepSeconds;
  const slot = (t: number) => Math.round((t - start) / stepSeconds);
  const [runSeries, costSeries] = await Promise.all([
    queryRange(prometheusUrl, `sum by (outcome) (increase(governor_runs_total[${stepSeconds}s]))`, start, end, stepSeconds),
    queryRange(prometheusUrl, `sum(increase(governor_cost_microusd_total[${stepSeconds}s])) / 1e6`, start, end, stepSeconds),
  ]);
  const outcomesOverTime: Record<string, number[]> = {};
  for (const s of runSeries) {
    const values = new Array<number>(24).fill(0);
    for (const [t, v] of s.points) if (slot(t) >= 0 && slot(t) < 24) values[slot(t)] = v;
    outcomesOverTime[s.labels.outcome ?? ''] = values;
  }
  const costOverTime = new Array<number>(24).fill(0);
  for (const [t, v] of costSeries[0]?.points ?? []) if (slot(t) >= 0 && slot(t) < 24) costOverTime[slot(t)] = v;
  return { hours, generatedAt: new Date(now).toISOString(), workflows, runsOverTime: { start, stepSeconds, outcomes: outcomesOverTime }, costOverTime };
}

const pct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(1)}%`);
const ms = (v: number | null) => (v === null ? '-' : v >= 1000 ? `${(v / 1000).toFixed(1)}s` : `${Math.round(v)}ms`);
const usd = (v: number) => `$${v.toFixed(v < 1 ? 4 : 2)}`;

/** The rows of the report's main table, for the terminal and the page alike. */
function reportRows(report: RunReport): string[][] {
  return [
    ['WORKFLOW', 'RUNS', 'OUTCOMES', 'REVIEWED', 'OVERRIDDEN', 'ESCALATED', 'COST', 'COST/RUN', 'P50', 'P95', 'SCHEMA FAIL', 'TOOL FAIL'],
    ...report.workflows.map((w) => [
      w.workflow,
      String(w.runs),
      Object.entries(w.byOutcome).map(([o, n]) => `${o} ${n}`).join(', ') || '-',
      String(w.reviewed),
      String(w.overridden),
      String(w.escalated),
      usd(w.costUsd),
      w.runs > 0 ? usd(w.costUsd / w.runs) : '-',
      ms(w.latencyP50Ms),
      ms(w.latencyP95Ms),
      pct(w.schemaFailureRate),
      pct(w.toolFailureRate),
    ]),
  ];
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** `governor report` in a terminal. */
export function formatReport(report: RunReport): string {
  if (report.workflows.length === 0) return `no runs finished in the last ${report.hours}h`;
  return `runs finished in the last ${report.hours}h (latency: runs no person held up)\n${table(reportRows(report))}`;
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const PALETTE = ['#2563eb', '#16a34a', '#d97706', '#dc2626', '#7c3aed', '#0891b2', '#db2777', '#65a30d'];

/**
 * A stacked bar chart as inline SVG. Drawn here rather than with a charting library: the page must be one file that
 * opens anywhere with no script and no network, and a few dozen rectangles do not need a library's runtime.
 */
function barChart(title: string, series: Record<string, readonly number[]>, format: (v: number) => string): string {
  const names = Object.keys(series);
  const n = Math.max(0, ...names.map((k) => series[k]!.length));
  const totals = Array.from({ length: n }, (_, i) => names.reduce((a, k) => a + (series[k]![i] ?? 0), 0));
  const max = Math.max(...totals, 0);
  const W = 720;
  const H = 200;
  const bar = n > 0 ? W / n : W;
  const rects: string[] = [];
  for (let i = 0; i < n; i++) {
    let y = H;
    names.forEach((k, j) => {
      const v = series[k]![i] ?? 0;
      if (v <= 0 || max <= 0) return;
      const h = (v / max) * (H - 10);
      y -= h;
      rects.push(`<rect class="bar" x="${(i * bar + 1).toFixed(1)}" y="${y.toFixed(1)}" width="${(bar - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${PALETTE[j % PALETTE.length]}"><title>${escape(k)}: ${escape(format(v))}</title></rect>`);
    });
  }
  const legend = names.map((k, j) => `<span class="key"><i style="background:${PALETTE[j % PALETTE.length]}"></i>${escape(k)}</span>`).join(' ');
  return `<figure><figcaption>${escape(title)} <small>(peak ${escape(format(max))})</small></figcaption>
<svg role="img" aria-label="${escape(title)}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}"><line x1="0" y1="${H}" x2="${W}" y2="${H}" stroke="#999"/>${rects.join('')}</svg>
<div class="legend">${legend}</div></figure>`;
}

function htmlTable(rows: string[][], id: string): string {
  const [head, ...body] = rows;
  return `<table id="${id}"><thead><tr>${head!.map((c) => `<th>${escape(c)}</th>`).join('')}</tr></thead><tbody>${body
    .map((r) => `<tr>${r.map((c) => `<td>${escape(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#111}h1{font-size:1.4rem}table{border-collapse:collapse;margin:1rem 0}
th,td{border-bottom:1px solid #ddd;padding:.3rem .6rem;text-align:left}th{background:#f5f5f5}figure{margin:1.5rem 0}
figcaption{font-weight:600;margin-bottom:.4rem}.legend{margin-top:.3rem}.key{margin-right:1rem}.key i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}
.breached{color:#b91c1c;font-weight:600}.ok{color:#15803d}
</style></head><body>${body}</body></html>
`;
}

/** `governor report --html`: one self-contained file (no script, no network) with the tables and the charts. */
export function reportHtml(report: RunReport): string {
  const time = (i: number) => new Date((report.runsOverTime.start + i * report.runsOverTime.stepSeconds) * 1000).toISOString().slice(11, 16);
  const runs = barChart(`Runs finished per ${Math.round(report.runsOverTime.stepSeconds / 60)} min, by outcome`, report.runsOverTime.outcomes, (v) => `${Math.round(v)} runs`);
  const cost = barChart(`Model spend per ${Math.round(report.runsOverTime.stepSeconds / 60)} min`, { cost: report.costOverTime }, (v) => `$${v.toFixed(4)}`);
  const totals = report.workflows.reduce((a, w) => ({ runs: a.runs + w.runs, cost: a.cost + w.costUsd, reviewed: a.reviewed + w.reviewed }), { runs: 0, cost: 0, reviewed: 0 });
  return page(
    `Governor report, last ${report.hours}h`,
    `<h1>Governor report: the last ${report.hours} hours</h1>
<p>Generated ${escape(report.generatedAt)} from Prometheus. Intervals from ${escape(time(0))} to ${escape(time(23))} UTC.</p>
<p id="totals"><strong>${totals.runs}</strong> runs finished, <strong>${totals.reviewed}</strong> reviewed by a person, <strong>${escape(usd(totals.cost))}</strong> spent on models.</p>
${report.workflows.length ? htmlTable(reportRows(report), 'workflows') : '<p>No runs finished in this window.</p>'}
${runs}
${cost}`,
  );
}

/** `governor slo --html`: the SLO table and each SLO's error budget as a bar. */
export function sloHtml(statuses: readonly SloStatus[], generatedAt = new Date().toISOString()): string {
  const rows = [
    ['SLO', 'Workflow', 'Objective', 'Window', 'Current', 'Budget left', 'Burn (1h)', 'State', 'On breach'],
    ...statuses.map((s) => [
      s.name,
      s.workflow,
      `${(s.objective * 100).toFixed(3)}%`,
      s.window,
      s.current === null ? 'no data' : `${(s.current * 100).toFixed(3)}%`,
      s.budgetLeft === null ? 'no data' : `${(s.budgetLeft * 100).toFixed(1)}%`,
      s.burnRate1h === null ? 'no data' : `${s.burnRate1h.toFixed(2)}x`,
      s.errorRatio === null ? 'no data' : s.breached ? 'BREACHED' : 'ok',
      s.actions.join(', ') || '-',
    ]),
  ];
  const budget = barChart('Error budget left (below zero: spent)', { 'budget left %': statuses.map((s) => Math.max(0, (s.budgetLeft ?? 0) * 100)) }, (v) => `${v.toFixed(1)}%`);
  return page(
    'Governor SLOs',
    `<h1>Governor SLOs</h1><p>Generated ${escape(generatedAt)} from Prometheus.</p>${htmlTable(rows, 'slos').replace(/<td>BREACHED<\/td>/g, '<td class="breached">BREACHED</td>').replace(/<td>ok<\/td>/g, '<td class="ok">ok</td>')}
<p>${statuses.map((s, i) => `${i + 1}. ${escape(s.name)}: ${escape(s.description)}`).join('<br>')}</p>${budget}`,
  );
}
