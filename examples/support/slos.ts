/**
 * The support workflows' SLOs, in the seed's form (objective, rolling window, breach action): what `governor slo`
 * reports, what the worker's SLO monitor acts on, and what deploy/prometheus/slo-rules.yml is generated from
 * (`npm run governor -- slo --rules`). `GOVERNOR_SLO_WEBHOOK` adds a webhook to every breach.
 */
import { defineSlo, type SloAction, type SloSpec } from 'governor';

const webhook: SloAction[] = process.env.GOVERNOR_SLO_WEBHOOK ? [{ kind: 'webhook', url: process.env.GOVERNOR_SLO_WEBHOOK }] : [];

export const SUPPORT_SLOS: readonly SloSpec[] = [
  defineSlo({
    name: 'triage_schema_failures',
    workflow: 'supportTicketTriage',
    description: 'Classifier replies that fail the output schema or a business rule stay under 1 %',
    objective: 0.99,
    window: '7d',
    sli: { kind: 'ratio', metric: 'governor_model_calls_total', bad: { valid: 'false' } },
    onBreach: [{ kind: 'review_only' }, { kind: 'freeze_rollout' }, ...webhook],
  }),
  defineSlo({
    name: 'triage_review_overrides',
    workflow: 'supportTicketTriage',
    description: 'Reviewers change or reject under 8 % of the classifications they review',
    objective: 0.92,
    window: '7d',
    sli: { kind: 'ratio', metric: 'governor_runs_total', total: { reviewed: 'true' }, bad: { overridden: 'true' } },
    onBreach: [{ kind: 'freeze_rollout' }, ...webhook],
  }),
  defineSlo({
    name: 'triage_latency_p95',
    workflow: 'supportTicketTriage',
    description: '95 % of runs no person held up finish within 6 s',
    objective: 0.95,
    window: '7d',
    sli: { kind: 'latency', thresholdMs: 6_000, total: { reviewed: 'false' } },
    onBreach: [{ kind: 'fallback_chain' }, ...webhook],
  }),
  defineSlo({
    name: 'triage_policy_compliance',
    workflow: 'supportTicketTriage',
    description: 'At least 99 % of tool calls are within policy (not denied)',
    objective: 0.99,
    window: '7d',
    sli: { kind: 'ratio', metric: 'governor_tool_calls_total', bad: { status: 'denied' } },
    onBreach: [{ kind: 'review_only' }, ...webhook],
  }),
  defineSlo({
    // Grades are a 2 % sample of auto-applied runs: a 28-day window gathers enough of them to mean something.
    name: 'triage_grading_accuracy',
    workflow: 'supportTicketTriage',
    description: 'Graders find under 5 % of the sampled auto-applied classifications incorrect',
    objective: 0.95,
    window: '28d',
    sli: { kind: 'ratio', metric: 'governor_grades_total', bad: { verdict: 'incorrect' } },
    onBreach: [{ kind: 'freeze_rollout' }, ...webhook],
  }),
  defineSlo({
    name: 'complaint_schema_failures',
    workflow: 'complaintEscalation',
    description: 'Complaint decisions that fail the output schema or a business rule stay under 1 %',
    objective: 0.99,
    window: '7d',
    sli: { kind: 'ratio', metric: 'governor_model_calls_total', bad: { valid: 'false' } },
    onBreach: [{ kind: 'fallback_chain' }, { kind: 'freeze_rollout' }, ...webhook],
  }),
];
