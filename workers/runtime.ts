import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from 'pino';
import { temporalLogger } from './logger.js';

let installed = false;

/**
 * Bucket bounds of Governor's histograms, in their units: a latency SLO's threshold must be one of them
 * (`governor_run_latency` for a p95 run latency objective).
 */
export const HISTOGRAM_BUCKETS: Readonly<Record<string, number[]>> = {
  governor_run_latency: [250, 500, 1_000, 2_000, 2_500, 5_000, 6_000, 10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000, 14_400_000, 86_400_000],
  governor_model_call_latency: [50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000],
  governor_tool_call_latency: [5, 10, 25, 50, 100, 250, 500, 1_000, 5_000, 30_000],
  governor_run_cost_microusd: [10, 50, 100, 500, 1_000, 5_000, 10_000, 50_000, 100_000, 1_000_000],
  governor_run_tokens: [100, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000],
  // Time to a person's decision: seconds to days.
  governor_decision_wait: [1_000, 10_000, 60_000, 300_000, 900_000, 3_600_000, 14_400_000, 28_800_000, 86_400_000, 259_200_000],
};

/**
 * Installs the SDK runtime once per process with a log level and, optionally, a structured logger (`GOVERNOR_LOG_LEVEL`, default WARN): worker state
 * changes at INFO drown the demo's table and the test reporter.
 */
export function installRuntime(
  level: LogLevel = (process.env.GOVERNOR_LOG_LEVEL as LogLevel | undefined) ?? 'WARN',
  logger?: Logger,
  options: { readonly metricsAddress?: string } = {},
): void {
  if (installed) return;
  installed = true;
  Runtime.install({
    // With a structured logger (`createLogger`), every SDK line (workflow, activity, worker) is one JSON object.
    logger: logger ? temporalLogger(logger, level) : new DefaultLogger(level),
    // The SDK's own metrics and Governor's workflow metrics (`kitMetrics`), on a Prometheus endpoint at this address
    // (`0.0.0.0:9465` to be scraped from outside a container).
    ...(options.metricsAddress
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: options.metricsAddress, countersTotalSuffix: true, histogramBucketOverrides: HISTOGRAM_BUCKETS } } } }
      : {}),
  });
}
