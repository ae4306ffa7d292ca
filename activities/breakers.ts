import { ApplicationFailure } from '@temporalio/common';
import { BrokenCircuitError, CircuitState, CountBreaker, circuitBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import { countsAgainstHealth, retryableFailure } from '../contracts/failures.js';

/**
 * Circuit breakers per provider and per tool, shared by every workflow on a worker. Built on cockatiel, a well-kept
 * resilience library: its count-window breaker and single-probe half-open state are exactly the semantics wanted,
 * and a hand-written state machine would only be a second, less tested copy.
 */
export interface BreakerSettings {
  /** Failures within the window that open the circuit. Default 5. */
  readonly failures?: number;
  /** The window: the last this-many calls. Default 10. */
  readonly window?: number;
  /** How long the circuit stays open before a single probe is let through. Default 30 s. */
  readonly cooldownMs?: number;
}

export type BreakerState = 'closed' | 'open' | 'half_open' | 'isolated';

export interface BreakerSnapshot {
  readonly name: string;
  readonly state: BreakerState;
  readonly opened: number;
  readonly rejected: number;
}


function stateName(state: CircuitState): BreakerState {
  switch (state) {
    case CircuitState.Closed:
      return 'closed';
    case CircuitState.Open:
      return 'open';
    case CircuitState.HalfOpen:
      return 'half_open';
    default:
      return 'isolated';
  }
}

interface Entry {
  readonly policy: CircuitBreakerPolicy;
  opened: number;
  rejected: number;
  /** When the circuit last opened (ms since the epoch): the probe is let through a cool-down after it. */
  openedAt: number;
}

export class BreakerRegistry {
  private readonly breakers = new Map<string, Entry>();
  private readonly settings: Required<BreakerSettings>;

  constructor(settings: BreakerSettings = {}) {
    this.settings = { failures: settings.failures ?? 5, window: settings.window ?? 10, cooldownMs: settings.cooldownMs ?? 30_000 };
    const { failures, window } = this.settings;
    if (!Number.isInteger(failures) || !Number.isInteger(window) || failures < 1 || failures > window) {
      throw new Error(`breaker settings: failures (${failures}) must be a whole number from 1 to window (${window})`);
    }
  }

  private entry(name: string): Entry {
    let entry = this.breakers.get(name);
    if (!entry) {
      const { failures, window, cooldownMs } = this.settings;
      const policy = circuitBreaker(
        // The failure table says which failures speak of the dependency's health; an unclassified error (a
        // downstream system's network failing) does; Governor's own store being down (`StoreUnavailable`) does not.
        handleWhen((err) => !(err instanceof ApplicationFailure) || countsAgainstHealth(err.type)),
        {
          halfOpenAfter: cooldownMs,
          // cockatiel opens when failures > threshold × calls in the window; (N − ½)/W makes that "N or more of the
          // last W", and no decision is taken before N calls.
          breaker: new CountBreaker({ threshold: (failures - 0.5) / window, size: window, minimumNumberOfCalls: failures }),
        },
      );
      const created: Entry = { policy, opened: 0, rejected: 0, openedAt: 0 };
      policy.onBreak(() => {
        created.opened++;
        created.openedAt = Date.now();
      });
      this.breakers.set(name, created);
      entry = created;
    }
    return entry;
  }

  /**
   * Runs `fn` through the named breaker. While the circuit is open the call is not made at all: a non-retryable
   * `CircuitOpen` comes back at once, so the workflow falls back to its next model without waiting.
   */
  async execute<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const entry = this.entry(name);
    try {
      return await entry.policy.execute(fn);
    } catch (err) {
      if (err instanceof BrokenCircuitError) {
        entry.rejected++;
        // Retryable by the table: a model step lists CircuitOpen as non-retryable and falls back at once; a tool
        // step retries after the cool-down, when the half-open probe may go through.
        throw retryableFailure('CircuitOpen', `circuit for ${name} is open after repeated failures; not calling it`, {
          nextRetryDelay: Math.max(1_000, entry.openedAt + this.settings.cooldownMs - Date.now()),
        });
      }
      throw err;
    }
  }

  snapshot(): BreakerSnapshot[] {
    return [...this.breakers.entries()].map(([name, e]) => ({ name, state: stateName(e.policy.state), opened: e.opened, rejected: e.rejected }));
  }
}
