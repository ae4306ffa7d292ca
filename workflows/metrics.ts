import { metricMeter } from '@temporalio/workflow';
import type { Ledger } from '../contracts/budget.js';

/**
 * Governor's workflow metrics, emitted through the workflow's metric meter: the SDK tags each with the namespace,
 * task queue and workflow type, exports them with its own runtime metrics (`installRuntime({ metricsAddress })`), and
 * never emits them while a run is replayed, so they add nothing to history and count each step once.
 *
 * What they answer (with the `workflowType`, `prompt_version` and `model` tags): schema failure rate
 * (`governor_model_calls_total{valid="false"}` / all), repair rate (`governor_repairs_total` / runs), retry rate
 * (`governor_transport_retries_total`), automation rate (`governor_runs_total{reviewed="false"}` / all), review rate,
 * review override rate (`{overridden="true"}` / `{reviewed="true"}`), escalations (`{escalated="true"}`), latency per
 * model call and per run, tokens, and cost per completed run (`governor_run_cost_microusd`). Tool calls are counted
 * where they run, by the tool activity (`governor_tool_calls_total{tool,status}`).
 */
export const kitMetrics = {
  modelCall(tags: { step: string; promptVersion: string; model: string; provider: string; valid: boolean }, usage: { inputTokens: number; outputTokens: number; latencyMs: number; attempt: number; usd: number }) {
    const t = { step: tags.step, prompt_version: tags.promptVersion, model: tags.model, provider: tags.provider };
    metricMeter.createCounter('governor_model_calls', 'calls', 'Model calls answered, by validity').withTags({ ...t, valid: String(tags.valid) }).add(1);
    metricMeter.createHistogram('governor_model_call_latency', 'int', 'ms', 'Latency of an answered model call').withTags(t).record(Math.round(usage.latencyMs));
    metricMeter.createCounter('governor_tokens', 'tokens', 'Tokens used, by direction').withTags({ ...t, direction: 'input' }).add(usage.inputTokens);
    metricMeter.createCounter('governor_tokens', 'tokens', 'Tokens used, by direction').withTags({ ...t, direction: 'output' }).add(usage.outputTokens);
    // Counters are whole numbers: cost is counted in micro-dollars.
    metricMeter.createCounter('governor_cost_microusd', 'microusd', 'Model cost at list prices, in millionths of a dollar').withTags(t).add(Math.round(usage.usd * 1_000_000));
    if (usage.attempt > 1) metricMeter.createCounter('governor_transport_retries', 'retries', 'Model requests retried by Temporal before an answer').withTags(t).add(usage.attempt - 1);
  },
  repair(tags: { step: string; promptVersion: string }) {
    metricMeter.createCounter('governor_repairs', 'repairs', 'Repair turns sent after invalid output').withTags({ step: tags.step, prompt_version: tags.promptVersion }).add(1);
  },
  /**
   * One per finished run: its outcome, whether a person reviewed it and changed what the model proposed, whether it
   * escalated, how long it took from start to this point (workflow time) and, given its ledger, what it cost.
   */
  run(
    tags: { outcome: string; promptVersion?: string; model?: string; reviewed?: boolean; overridden?: boolean; escalated?: boolean },
    latencyMs: number,
    ledger?: Ledger,
  ) {
    const version = { prompt_version: tags.promptVersion ?? '', model: tags.model ?? '' };
    const t = {
      outcome: tags.outcome,
      ...version,
      reviewed: String(tags.reviewed ?? false),
      overridden: String(tags.overridden ?? false),
      escalated: String(tags.escalated ?? false),
    };
    metricMeter.createCounter('governor_runs', 'runs', 'Finished runs, by outcome').withTags(t).add(1);
    metricMeter.createHistogram('governor_run_latency', 'int', 'ms', 'Run latency, start to finish').withTags({ ...version, reviewed: t.reviewed }).record(Math.max(0, Math.round(latencyMs)));
    if (ledger) {
      metricMeter.createHistogram('governor_run_cost_microusd', 'int', 'microusd', 'Model cost of one finished run').withTags(version).record(Math.round(ledger.usd * 1_000_000));
      metricMeter.createHistogram('governor_run_tokens', 'int', 'tokens', 'Tokens used by one finished run').withTags(version).record(ledger.inputTokens + ledger.outputTokens);
    }
  },
};
