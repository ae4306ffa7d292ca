import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineSlo, errorRatioQuery, sloRuleGroups } from 'governor';

const base = {
  name: 'schema_failures',
  workflow: 'supportTicketTriage',
  description: 'replies failing validation stay under 1 %',
  objective: 0.99,
  window: '7d',
  sli: { kind: 'ratio' as const, metric: 'governor_model_calls_total', bad: { valid: 'false' } },
};

describe('SLO declarations', () => {
  it('a mistake is named by field and rule when the SLO is declared', () => {
    assert.throws(() => defineSlo({ ...base, objective: 1.5 }), /invalid SLO "schema_failures": objective: .*1/);
    assert.throws(() => defineSlo({ ...base, window: 'a week' }), /window: a Prometheus duration/);
    assert.throws(() => defineSlo({ ...base, name: 'Schema Failures' }), /name: lowercase letters/);
    assert.throws(() => defineSlo({ ...base, onBreach: [{ kind: 'webhook', url: 'ftp://x' }] }), /onBreach\.0\.url/);
    assert.throws(() => defineSlo({ ...base, onBreach: [{ kind: 'page_everyone' } as never] }), /onBreach\.0\.kind/);
  });

  it('the error ratio is bad over all events of the workflow; latency counts runs past the threshold bucket', () => {
    assert.equal(
      errorRatioQuery(defineSlo(base), '1h'),
      'sum(rate(governor_model_calls_total{workflowType="supportTicketTriage",valid="false"}[1h])) / sum(rate(governor_model_calls_total{workflowType="supportTicketTriage"}[1h]))',
    );
    const latency = defineSlo({ ...base, sli: { kind: 'latency', thresholdMs: 6000, total: { reviewed: 'false' } } });
    assert.equal(
      errorRatioQuery(latency, '5m'),
      '1 - (sum(rate(governor_run_latency_bucket{workflowType="supportTicketTriage",reviewed="false",le="6000"}[5m])) / sum(rate(governor_run_latency_count{workflowType="supportTicketTriage",reviewed="false"}[5m])))',
    );
  });

  it('rules: one record per window, burn-rate alerts at 14.4x and 6x, and the budget alert', () => {
    const [group] = sloRuleGroups([defineSlo(base)]).groups;
    assert.deepEqual(group!.rules.filter((r) => r.record).map((r) => r.record), [
      'governor_slo:error_ratio:rate5m',
      'governor_slo:error_ratio:rate30m',
      'governor_slo:error_ratio:rate1h',
      'governor_slo:error_ratio:rate6h',
      'governor_slo:error_ratio:rate7d',
    ]);
    const alerts = group!.rules.filter((r) => r.alert);
    assert.deepEqual(alerts.map((r) => r.alert), ['GovernorSloBurnRateFast', 'GovernorSloBurnRateSlow', 'GovernorSloBudgetSpent']);
    assert.match(String(alerts[0]!.expr), /rate1h\{slo="schema_failures"\} > \(14\.4 \* 0\.01\) and .*rate5m/);
    assert.equal(alerts[2]!.expr, 'governor_slo:error_ratio:rate7d{slo="schema_failures"} > 0.01');
  });
});
