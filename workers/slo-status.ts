import { errorRatioQuery, type SloSpec } from '../contracts/slo.js';
import { queryScalar } from './prometheus.js';

/** Where an SLO stands over its rolling window, from Prometheus. */
export interface SloStatus {
  readonly name: string;
  readonly workflow: string;
  readonly description: string;
  readonly objective: number;
  readonly window: string;
  /** Bad events ÷ all over the window; null when there were no events. */
  readonly errorRatio: number | null;
  /** Good events ÷ all over the window (1 − errorRatio). */
  readonly current: number | null;
  /** The share of the error budget not yet spent: 1 at no errors, 0 when spent, below 0 past it. */
  readonly budgetLeft: number | null;
  /** How fast the budget burns over the last hour: 1 spends it exactly over the window. */
  readonly burnRate1h: number | null;
  readonly breached: boolean;
  readonly actions: readonly string[];
}

/** Evaluates each SLO over its window (and its burn rate over the last hour) from Prometheus. */
export async function evaluateSlos(prometheusUrl: string, slos: readonly SloSpec[]): Promise<SloStatus[]> {
  return Promise.all(
    slos.map(async (slo) => {
      const [errorRatio, lastHour] = await Promise.all([queryScalar(prometheusUrl, errorRatioQuery(slo, slo.window)), queryScalar(prometheusUrl, errorRatioQuery(slo, '1h'))]);
      const budget = 1 - slo.objective;
      return {
        name: slo.name,
        workflow: slo.workflow,
        description: slo.description,
        objective: slo.objective,
        window: slo.window,
        errorRatio,
        current: errorRatio === null ? null : 1 - errorRatio,
        budgetLeft: errorRatio === null ? null : 1 - errorRatio / budget,
        burnRate1h: lastHour === null ? null : lastHour / budget,
        breached: errorRatio !== null && errorRatio > budget,
        actions: slo.onBreach.map((a) => a.kind),
      };
    }),
  );
}

