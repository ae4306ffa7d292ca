import { ApplicationFailure } from '@temporalio/common';
import { BrokenCircuitError, CircuitState, CountBreaker, circuitBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import { FailureType } from '../contracts/failures';

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

/** Failures that say the dependency is unhealthy; a bad request or a refusal says nothing about its health. */
const HEALTH_FAILURES = new Set<string>([
  FailureType.RateLimited,
  FailureType.ModelOverloaded,
  FailureType.ModelServerError,
  FailureType.ModelTimeout,
  FailureType.ModelConnectionError,
]);

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
        // Classified failures count when they speak of health; an unclassified error (a tool's database or network
        // failing) always does.
        handleWhen((err) => !(err instanceof ApplicationFailure) || HEALTH_FAILURES.has(err.type ?? '')),
        {
          halfOpenAfter: cooldownMs,
          // cockatiel opens when failures > threshold × calls in the window; (N − ½)/W makes that "N or more of the
          // last W", and no decision is taken before N calls.
          breaker: new CountBreaker({ threshold: (failures - 0.5) / window, size: window, minimumNumberOfCalls: failures }),
        },
      );
      const created: Entry = { policy, opened: 0, rejected: 0 };
      policy.onBreak(() => created.opened++);
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
        throw ApplicationFailure.create({
          type: FailureType.CircuitOpen,
          message: `circuit for ${name} is open after repeated failures; not calling it`,
          nonRetryable: true,
        });
      }
      throw err;
    }
  }

  snapshot(): BreakerSnapshot[] {
    return [...this.breakers.entries()].map(([name, e]) => ({ name, state: stateName(e.policy.state), opened: e.opened, rejected: e.rejected }));
  }
}
