import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

let installed = false;

/**
 * Installs the SDK runtime once per process with a log level (`GOVERNOR_LOG_LEVEL`, default WARN): worker state
 * changes at INFO drown the demo's table and the test reporter.
 */
export function installRuntime(level: LogLevel = (process.env.GOVERNOR_LOG_LEVEL as LogLevel | undefined) ?? 'WARN'): void {
  if (installed) return;
  installed = true;
  Runtime.install({ logger: new DefaultLogger(level) });
}
