import type { Client } from '@temporalio/client';
import pLimit from 'p-limit';
import type { EvalMetric, ModelRef, PromptRecord } from 'governor';
import { metricMet } from 'governor';
import type { EvalCaseInput, EvalCaseResult } from '../workflows/eval.js';
import { scoreSuite, type EvalSuite } from './suites.js';

export interface SuiteScore {
  readonly suite: string;
  readonly cases: number;
  readonly metrics: EvalMetric[];
}

/**
 * Runs every case of the suites through the real governed step — one `evalTicketClassification` run per case on the
 * workers of `taskQueue`, at most `concurrency` at a time — and scores each suite.
 */
export async function runEvalSuites(options: {
  readonly client: Client;
  readonly taskQueue: string;
  readonly prompt: PromptRecord;
  readonly suites: readonly EvalSuite[];
  readonly chain: readonly ModelRef[];
  readonly confidenceThreshold?: number;
  readonly concurrency?: number;
  /** At most this many cases per suite (the first ones), for a quick look. */
  readonly limit?: number;
  readonly onCase?: (done: number, total: number) => void;
}): Promise<SuiteScore[]> {
  const limit = pLimit(options.concurrency ?? 8);
  const stamp = Date.now().toString(36);
  const suites = options.suites.map((s) => ({ ...s, cases: options.limit ? s.cases.slice(0, options.limit) : s.cases }));
  const total = suites.reduce((n, s) => n + s.cases.length, 0);
  let done = 0;
  const scores: SuiteScore[] = [];
  for (const suite of suites) {
    const results = await Promise.all(
      suite.cases.map((c) =>
        limit(async () => {
          const input: EvalCaseInput = { prompt: options.prompt, ticket: c.input, chain: options.chain, confidenceThreshold: options.confidenceThreshold ?? 0.75 };
          const result = await options.client.workflow.execute<(i: EvalCaseInput) => Promise<EvalCaseResult>>('evalTicketClassification', {
            taskQueue: options.taskQueue,
            workflowId: `eval/${options.prompt.name}@${options.prompt.version}/${suite.name}/${c.id}/${stamp}`,
            args: [input],
            workflowExecutionTimeout: '10m',
            // Batch work: eval cases never hold up a ticket someone is waiting on.
            priority: { priorityKey: 5 },
          });
          options.onCase?.(++done, total);
          return result;
        }),
      ),
    );
    scores.push({ suite: suite.name, cases: suite.cases.length, metrics: scoreSuite(suite, results) });
  }
  return scores;
}

const show = (m: EvalMetric, v: number | null) => (v === null ? 'n/a' : m.unit === 'ratio' ? `${(v * 100).toFixed(1)}%` : m.unit === 'ms' ? `${Math.round(v)} ms` : `$${v.toFixed(5)}`);

/** One suite's metrics as the seed lays them out: each against its target, gated or not, never one score. */
export function formatSuite(prompt: string, score: SuiteScore): string {
  const rows = [
    ['METRIC', 'VALUE', 'TARGET', 'GATED', 'RESULT'],
    ...score.metrics.map((m) => [m.name, show(m, m.value), `${m.direction === 'min' ? '>=' : '<='} ${show(m, m.target)}`, m.gated ? 'yes' : 'no', m.value === null ? '-' : metricMet(m) ? 'ok' : m.gated ? 'MISSED' : 'missed']),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return [`${prompt} on ${score.suite} (${score.cases} cases)`, ...rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd())].join('\n');
}
