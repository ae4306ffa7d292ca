import { z } from 'zod';
import { formatIssues, issuesFrom } from './issues.js';

/**
 * What happens when an SLO's error budget is spent. Each is recorded in the store with who (`slo:<name>`), when,
 * from and to, and lifted the same way when the budget recovers:
 * - `review_only`: every new run of the workflow goes to a person before anything is applied;
 * - `fallback_chain`: new runs skip the first model of their chain and start at its fallback;
 * - `freeze_rollout`: no new prompt version may be promoted for the workflow;
 * - `webhook`: a JSON POST to `url` on breach and on recovery (paging, chat, a ticket).
 */
export const SloAction = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('review_only') }),
  z.strictObject({ kind: z.literal('fallback_chain') }),
  z.strictObject({ kind: z.literal('freeze_rollout') }),
  z.strictObject({ kind: z.literal('webhook'), url: z.url({ protocol: /^https?$/ }) }),
]);
export type SloAction = z.infer<typeof SloAction>;

const LabelMatch = z.record(z.string().regex(/^[a-zA-Z_]\w*$/, 'a Prometheus label name'), z.string());
const PromDuration = z.string().regex(/^\d+[smhdw]$/, 'a Prometheus duration: a whole number and s, m, h, d or w (5m, 1d, 28d)');

/**
 * An SLI over Governor's metrics, as good events among all events:
 * - `ratio`: of the events counted by `metric`, those matching `bad` are bad (schema failures among model calls,
 *   denials among tool calls); `total` narrows the events counted (reviewed runs only, for the override rate);
 * - `latency`: a run is good when it finished within `thresholdMs`, a bucket bound of `metric`'s histogram
 *   (`HISTOGRAM_BUCKETS` of `governor/worker`).
 */
export const Sli = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('ratio'),
    metric: z.string().regex(/^[a-zA-Z_:][\w:]*$/, 'a Prometheus metric name'),
    bad: LabelMatch,
    total: LabelMatch.default({}),
  }),
  z.strictObject({
    kind: z.literal('latency'),
    metric: z.string().regex(/^[a-zA-Z_:][\w:]*$/, 'a Prometheus histogram name').default('governor_run_latency'),
    thresholdMs: z.number().int().positive(),
    /** Narrows the runs counted (`{ reviewed: 'false' }`: runs no person held up). */
    total: LabelMatch.default({}),
  }),
]);
export type Sli = z.infer<typeof Sli>;

export const SloSpec = z.strictObject({
  /** Names the SLO in rules, alerts, the report and the control changes it makes. */
  name: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'lowercase letters, digits and _, starting with a letter'),
  /** The workflow type it holds to account (`supportTicketTriage`). */
  workflow: z.string().min(1),
  description: z.string().min(1),
  /** The share of good events promised, e.g. 0.999 (a schema failure rate under 0.1 %). */
  objective: z.number().gt(0).lt(1),
  /** The rolling window the objective holds over. */
  window: PromDuration,
  sli: Sli,
  onBreach: z.array(SloAction).default([]),
});
export type SloSpec = z.infer<typeof SloSpec>;
export type SloSpecInput = z.input<typeof SloSpec>;

/** Declares an SLO; a mistake is named by field and rule when the module loads, never at the first breach. */
export function defineSlo(spec: SloSpecInput): SloSpec {
  const parsed = SloSpec.safeParse(spec);
  if (!parsed.success) throw new Error(`invalid SLO ${JSON.stringify((spec as { name?: unknown }).name ?? '?')}: ${formatIssues(issuesFrom(parsed.error))}`);
  return parsed.data;
}

function selector(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',');
}

/** The PromQL of an SLO's error ratio (bad ÷ all) over `window`: what its rules record and `governor slo` reads. */
export function errorRatioQuery(slo: SloSpec, window: string): string {
  const scope = { workflowType: slo.workflow };
  if (slo.sli.kind === 'ratio') {
    const total = { ...scope, ...slo.sli.total };
    const bad = { ...total, ...slo.sli.bad };
    return `sum(rate(${slo.sli.metric}{${selector(bad)}}[${window}])) / sum(rate(${slo.sli.metric}{${selector(total)}}[${window}]))`;
  }
  const runs = { ...scope, ...slo.sli.total };
  const within = `sum(rate(${slo.sli.metric}_bucket{${selector({ ...runs, le: String(slo.sli.thresholdMs) })}}[${window}]))`;
  return `1 - (${within} / sum(rate(${slo.sli.metric}_count{${selector(runs)}}[${window}])))`;
}

/**
 * The multiwindow, multi-burn-rate alerts of the SRE workbook: page when the budget burns 14.4× too fast over an
 * hour (and still over the last 5 minutes), open a ticket at 6× over 6 hours (and 30 minutes); plus the breach
 * itself, the budget spent over the SLO's window.
 */
const BURN_ALERTS = [
  { long: '1h', short: '5m', factor: 14.4, severity: 'page' },
  { long: '6h', short: '30m', factor: 6, severity: 'ticket' },
] as const;

/** The rule windows an SLO needs: the burn-rate alerts' and its own. */
export function sloWindows(slo: SloSpec): string[] {
  return [...new Set(['5m', '30m', '1h', '6h', slo.window])];
}

export const SLO_RECORD = 'governor_slo:error_ratio';

/**
 * Prometheus recording and alerting rules for a set of SLOs, as the object a rule file holds (serialise it as YAML):
 * `governor_slo:error_ratio:rate<window>{slo,workflowType}` per window, and the burn-rate and breach alerts.
 */
export function sloRuleGroups(slos: readonly SloSpec[]): { groups: Array<{ name: string; interval?: string; rules: Array<Record<string, unknown>> }> } {
  return {
    groups: slos.map((slo) => {
      const labels = { slo: slo.name, workflowType: slo.workflow };
      const budget = Number((1 - slo.objective).toPrecision(12));
      const record = (w: string) => `${SLO_RECORD}:rate${w}`;
      const at = (w: string) => `${record(w)}{slo=${JSON.stringify(slo.name)}}`;
      return {
        name: `governor-slo-${slo.name}`,
        rules: [
          ...sloWindows(slo).map((w) => ({ record: record(w), expr: errorRatioQuery(slo, w), labels })),
          ...BURN_ALERTS.map((a) => ({
            alert: `GovernorSloBurnRate${a.severity === 'page' ? 'Fast' : 'Slow'}`,
            expr: `${at(a.long)} > (${a.factor} * ${budget}) and ${at(a.short)} > (${a.factor} * ${budget})`,
            labels: { ...labels, severity: a.severity },
            annotations: {
              summary: `${slo.name}: error budget burning ${a.factor}x too fast`,
              description: `${slo.description} (objective ${slo.objective} over ${slo.window}); error ratio over ${a.long} is {{ $value | humanizePercentage }}.`,
            },
          })),
          {
            alert: 'GovernorSloBudgetSpent',
            expr: `${at(slo.window)} > ${budget}`,
            labels: { ...labels, severity: 'page' },
            annotations: {
              summary: `${slo.name}: error budget spent`,
              description: `${slo.description}: the error ratio over ${slo.window} is {{ $value | humanizePercentage }}, above the budget of ${budget}. Breach actions: ${
                slo.onBreach.map((a) => a.kind).join(', ') || 'none'
              }.`,
            },
          },
        ],
      };
    }),
  };
}
