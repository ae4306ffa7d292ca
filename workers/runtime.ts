import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from 'pino';
import { temporalLogger } from './logger.js';

let installed = false;

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
    ...(options.metricsAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress: options.metricsAddress, countersTotalSuffix: true } } } } : {}),
  });
}
