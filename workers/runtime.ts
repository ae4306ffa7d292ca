import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from 'pino';
import { temporalLogger } from './logger.js';

let installed = false;

/**
 * Installs the SDK runtime once per process with a log level and, optionally, a structured logger (`GOVERNOR_LOG_LEVEL`, default WARN): worker state
 * changes at INFO drown the demo's table and the test reporter.
 */
export function installRuntime(level: LogLevel = (process.env.GOVERNOR_LOG_LEVEL as LogLevel | undefined) ?? 'WARN', logger?: Logger): void {
  if (installed) return;
  installed = true;
  // With a structured logger (`createLogger`), every SDK line (workflow, activity, worker) is one JSON object.
  Runtime.install({ logger: logger ? temporalLogger(logger, level) : new DefaultLogger(level) });
}
