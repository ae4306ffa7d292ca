import { DefaultLogger, type LogEntry, type LogLevel } from '@temporalio/worker';
import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * Where personal data can sit in a log record's fields, redacted by default: ticket and complaint text, prompts and
 * replies, tool arguments and results, whole trigger events. Governor's own lines carry none of these (they log ids,
 * versions, counts and outcomes); the paths guard what other code may pass along.
 */
export const DEFAULT_REDACT_PATHS: readonly string[] = [
  'body', '*.body', '*.*.body', 'subject', '*.subject', '*.*.subject',
  'ticket', '*.ticket', 'complaint', '*.complaint', 'event', '*.event',
  'messages', '*.messages', 'text', '*.text', 'system', '*.system',
  'args', '*.args', 'result', '*.result', 'parsed', '*.parsed',
];

export interface LoggerOptions {
  /** Default `GOVERNOR_LOG_LEVEL` or `info`. */
  readonly level?: string;
  /**
   * Field paths (pino's redact syntax) replaced by `[redacted]`. Default: `DEFAULT_REDACT_PATHS` plus the
   * comma-separated paths in `GOVERNOR_LOG_REDACT` (your own fields: `customer.email,*.iban`).
   */
  readonly redact?: readonly string[];
  /** The `service` field of every line (default `governor`). */
  readonly service?: string;
  /** Default standard error. */
  readonly destination?: DestinationStream;
}

/** `DEFAULT_REDACT_PATHS` and the paths listed in `GOVERNOR_LOG_REDACT`. */
export function redactPathsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const extra = (env.GOVERNOR_LOG_REDACT ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  return [...DEFAULT_REDACT_PATHS, ...extra];
}

/** Structured JSON logs (pino): one object per line, ISO time, level name, redaction applied. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: (options.level ?? process.env.GOVERNOR_LOG_LEVEL ?? 'info').toLowerCase(),
      base: { service: options.service ?? 'governor' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...(options.redact ?? redactPathsFromEnv())], censor: '[redacted]' },
    },
    options.destination ?? pino.destination(2),
  );
}

const LEVELS: Readonly<Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'>> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };

/**
 * The Temporal SDK's logger, writing through `logger`: workflow lines carry the workflow id, run id, type and task
 * queue, activity lines the activity type and attempt, as the SDK attaches them; Governor's step lines add the
 * step, prompt version, model and outcome.
 */
export function temporalLogger(logger: Logger, level: LogLevel = 'INFO'): DefaultLogger {
  return new DefaultLogger(level, (entry: LogEntry) => {
    const { meta, message, level: entryLevel } = entry;
    logger[LEVELS[entryLevel]]({ ...(meta ?? {}) }, message);
  });
}
