import { breachedSlos, flipSloState, setControl, type ControlName } from '../activities/controls.js';
import { endRollout } from '../activities/prompt-registry.js';
import type { Store } from '../activities/store.js';
import type { SloAction, SloSpec } from '../contracts/slo.js';
import { evaluateSlos, type SloStatus } from './slo-status.js';

export interface SloMonitorOptions {
  readonly slos: readonly SloSpec[];
  /** Prometheus' base URL (`http://prometheus:9090`): the SLOs are evaluated from what it scraped. */
  readonly prometheusUrl: string;
  readonly store: Store;
  /** Default 30 s. */
  readonly intervalMs?: number;
  /** Told about an evaluation or an action that failed; the monitor goes on. */
  readonly onError?: (err: Error) => void;
  /** Told about every breach and recovery acted on. */
  readonly onTransition?: (status: SloStatus, breached: boolean) => void;
}

export interface SloMonitor {
  /** Evaluates every SLO once and acts on what changed. */
  evaluate(): Promise<SloStatus[]>;
  start(): void;
  stop(): Promise<void>;
}

const CONTROL_OF: Partial<Record<SloAction['kind'], ControlName>> = {
  review_only: 'review_only',
  fallback_chain: 'fallback_chain',
  freeze_rollout: 'rollout_frozen',
};

/**
 * Evaluates SLOs on an interval and carries out their breach actions: when an SLO's error budget is spent, its
 * controls are set for its workflow (review-only, fallback chain, rollout frozen — which also ends a rollout in
 * flight, demoting its candidate) and its webhooks called; when the
 * budget recovers, the controls it set are lifted — unless another SLO still breached asks for the same one — and the
 * webhooks told. Every change is recorded in the store with the SLO as the actor.
 */
export function createSloMonitor(options: SloMonitorOptions): SloMonitor {
  const { slos, store } = options;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();

  const webhook = async (url: string, status: SloStatus, breached: boolean) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ event: breached ? 'slo_breached' : 'slo_recovered', at: new Date().toISOString(), ...status }),
      signal: AbortSignal.timeout(5_000),
    });
    if (!res.ok) throw new Error(`SLO ${status.name}: webhook ${url} answered ${res.status}`);
  };

  const act = async (slo: SloSpec, status: SloStatus, breached: boolean) => {
    const stillBreached = breached ? new Set<string>() : await breachedSlos(store);
    for (const action of slo.onBreach) {
      const control = CONTROL_OF[action.kind];
      if (control) {
        // On recovery, a control stays while another breached SLO of the same workflow asks for it.
        const heldElsewhere = slos.some((o) => o.name !== slo.name && o.workflow === slo.workflow && stillBreached.has(o.name) && o.onBreach.some((a) => a.kind === action.kind));
        if (!breached && heldElsewhere) continue;
        const reason = breached
          ? `error budget spent: error ratio ${status.errorRatio?.toFixed(4)} over ${slo.window} against a budget of ${(1 - slo.objective).toFixed(4)}`
          : 'error budget recovered';
        await setControl(store, { workflowType: slo.workflow, control, value: breached, actor: `slo:${slo.name}`, reason });
        // A frozen rollout also demotes the candidate in flight: every new run goes back to the production label.
        if (breached && action.kind === 'freeze_rollout') await endRollout(store, { workflowType: slo.workflow, actor: `slo:${slo.name}`, reason });
      } else if (action.kind === 'webhook') {
        await webhook(action.url, status, breached).catch((err: Error) => options.onError?.(err));
      }
    }
    options.onTransition?.(status, breached);
  };

  const evaluate = async (): Promise<SloStatus[]> => {
    const statuses = await evaluateSlos(options.prometheusUrl, slos);
    for (const status of statuses) {
      // No data is no verdict: the state stays what it was.
      if (status.errorRatio === null) continue;
      const slo = slos.find((s) => s.name === status.name)!;
      if (await flipSloState(store, slo.name, status.breached)) await act(slo, status, status.breached);
    }
    return statuses;
  };

  return {
    evaluate,
    start() {
      if (timer) return;
      let busy = false;
      timer = setInterval(() => {
        // One evaluation at a time: a slow Prometheus delays the next instead of stacking them.
        if (busy) return;
        busy = true;
        running = evaluate()
          .catch((err: Error) => options.onError?.(err))
          .finally(() => (busy = false));
      }, options.intervalMs ?? 30_000);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
