import { ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import type { Duration, SignalDefinition, UpdateDefinition } from '@temporalio/common';

import type { z } from 'zod';
import { ReviewRejection } from '../contracts/failures.js';
import { formatIssues, issuesFrom } from '../contracts/issues.js';
import { deadlineAfter } from './duration.js';

/** A decision a gate is waiting for: who may give it and until when. */
export interface PendingDecision<Info = unknown> {
  readonly key: string;
  readonly approvers: readonly string[];
  /** ISO time after which the wait ends without a decision. */
  readonly deadline: string;
  /** What the person decides on (the held action, the model's answer), for the state query. */
  readonly info: Info;
}

export interface DecisionGateOptions<D, A> {
  /**
   * The update people decide with. An update rather than a signal because the person gets an answer: accepted, or
   * refused with the reason (invalid, not authorised, already decided, not awaiting a decision); a refused update
   * leaves no trace in history.
   */
  readonly update: UpdateDefinition<A, [D]>;
  /**
   * The same decision as a signal, for senders that cannot wait for an answer (queues, webhooks): validated the same
   * way inside the workflow; a refused one is reported through `onRejectedSignal` and changes nothing else.
   */
  readonly signal?: SignalDefinition<[D]>;
  readonly schema: z.ZodType<D, unknown>;
  /** Which pending decision a payload answers (`stepId` of a held action; a constant for a single review). */
  readonly keyOf: (decision: D) => string;
  readonly reviewerOf: (decision: D) => string;
  /** The update's answer for an accepted decision. */
  readonly accept: (decision: D) => A;
  /** A further rule on the payload, given what is pending: the reason it is invalid, or null. */
  readonly check?: (decision: D, pending: PendingDecision) => string | null;
  /** Wording of the refusals, where a workflow wants its own. */
  readonly describe?: {
    readonly notAuthorised?: (reviewer: string) => string;
    readonly notAwaiting?: (key: string) => string;
    readonly alreadyDecided?: (previous: D) => string;
  };
  readonly onRejectedSignal?: (reason: string) => void;
}

export type GateOutcome<D> = { readonly decided: true; readonly decision: D } | { readonly decided: false };

/**
 * One approval gate for every kind of human decision: a review of a model's answer, the approval of a held action,
 * the resolution of what a run escalated. Install it once, at the start of the workflow function; `wait` holds a
 * decision open until a person answers or the deadline passes (the timed-out branch is the caller's).
 */
export class DecisionGate<D, A, Info = unknown> {
  private readonly open = new Map<string, PendingDecision<Info>>();
  private readonly decisions = new Map<string, D>();

  constructor(private readonly options: DecisionGateOptions<D, A>) {
    setHandler(options.update, (raw: D) => this.take(raw), {
      // Runs before the update is written to history: a refused decision leaves the run exactly as it was.
      validator: (raw: D) => {
        const refusal = this.refusal(raw);
        if (refusal) throw ApplicationFailure.create({ type: refusal.type, message: refusal.message, nonRetryable: true });
      },
    });
    if (options.signal) {
      setHandler(options.signal, (raw: D) => {
        const refusal = this.refusal(raw);
        if (refusal) options.onRejectedSignal?.(`${refusal.type}: ${refusal.message}`);
        else this.take(raw);
      });
    }
  }

  /** Waits for the decision under `key`; `{ decided: false }` when the deadline passed first. */
  async wait(key: string, request: { readonly approvers: readonly string[]; readonly deadline: Duration; readonly info: Info }): Promise<GateOutcome<D>> {
    this.open.set(key, { key, approvers: request.approvers, deadline: deadlineAfter(request.deadline), info: request.info });
    try {
      await condition(() => this.decisions.has(key), request.deadline);
    } finally {
      this.open.delete(key);
    }
    const decision = this.decisions.get(key);
    return decision === undefined ? { decided: false } : { decided: true, decision };
  }

  /** What is waiting for a person now, for the state query. */
  pending(): PendingDecision<Info>[] {
    return [...this.open.values()];
  }

  decided(key: string): D | undefined {
    return this.decisions.get(key);
  }

  private take(raw: D): A {
    const decision = this.options.schema.parse(raw);
    const key = this.options.keyOf(decision);
    this.decisions.set(key, decision);
    this.open.delete(key);
    return this.options.accept(decision);
  }

  private refusal(raw: unknown): { type: ReviewRejection; message: string } | null {
    const parsed = this.options.schema.safeParse(raw);
    if (!parsed.success) return { type: ReviewRejection.InvalidDecision, message: formatIssues(issuesFrom(parsed.error)) };
    const d = parsed.data;
    const key = this.options.keyOf(d);
    const reviewer = this.options.reviewerOf(d);
    const say = this.options.describe ?? {};
    const previous = this.decisions.get(key);
    if (previous !== undefined) {
      return { type: ReviewRejection.AlreadyDecided, message: say.alreadyDecided?.(previous) ?? `already decided by ${this.options.reviewerOf(previous)}` };
    }
    const pending = this.open.get(key);
    if (!pending) return { type: ReviewRejection.NotAwaitingReview, message: say.notAwaiting?.(key) ?? `nothing is waiting for a decision on ${key}` };
    if (!pending.approvers.includes(reviewer)) {
      return { type: ReviewRejection.NotAuthorised, message: say.notAuthorised?.(reviewer) ?? `${reviewer} may not decide ${key}` };
    }
    const invalid = this.options.check?.(d, pending);
    return invalid ? { type: ReviewRejection.InvalidDecision, message: invalid } : null;
  }
}
