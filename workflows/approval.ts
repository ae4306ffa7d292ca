import { ApplicationFailure, condition, metricMeter, setHandler } from '@temporalio/workflow';
import type { Duration, SignalDefinition, UpdateDefinition } from '@temporalio/common';

import type { z } from 'zod';
import { ReviewRejection } from '../contracts/failures.js';
import { formatIssues, issuesFrom } from '../contracts/issues.js';
import { durationMs } from './duration.js';

/** A decision a gate is waiting for: who may give it and until when. */
export interface PendingDecision<Info = unknown> {
  readonly key: string;
  readonly approvers: readonly string[];
  /** ISO time after which the wait ends without a decision. */
  readonly deadline: string;
  /** What the person decides on (the held action, the model's answer), for the state query. */
  readonly info: Info;
  /** When reminders went out (ISO times), soonest first. */
  readonly reminded: string[];
}

/** Reminders before a decision's deadline: how long before it each goes out, and how it is sent (a tool, usually). */
export interface DecisionReminders {
  /** Each reminder's lead time before the deadline (`'1h'`, `'10m'`); one already past when the wait starts is skipped. At most 5. */
  readonly before: readonly Duration[];
  /** Sends one reminder; runs in the workflow (call an activity). Its failure fails the wait, as an activity failure would. */
  readonly send: (reminder: { readonly key: string; readonly deadline: string; readonly remainingMs: number; readonly approvers: readonly string[] }) => Promise<void>;
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

/**
 * A refusal echoes what was sent (a reviewer id, a step id, an unknown key's name), and the validator's failure goes
 * back to the server in the worker's reply: a few megabytes of it fail the workflow task (gRPC's 4 MB), and half of a
 * surrogate pair cannot be encoded as UTF-8, so the worker's core refuses the reply and shuts the worker down. The
 * start names the field and the end the rule, so both are kept.
 */
const MAX_REFUSAL_CHARS = 2_000;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function replyable(message: string): string {
  const clipped = message.length <= MAX_REFUSAL_CHARS ? message : `${message.slice(0, 1_500)} … (${message.length - 1_900} characters left out) … ${message.slice(-400)}`;
  // After clipping, which may itself split a pair.
  return clipped.replace(LONE_SURROGATE, '\ufffd');
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
        if (refusal) throw ApplicationFailure.create({ type: refusal.type, message: replyable(refusal.message), nonRetryable: true });
      },
    });
    if (options.signal) {
      setHandler(options.signal, (raw: D) => {
        const refusal = this.refusal(raw);
        if (refusal) options.onRejectedSignal?.(`${refusal.type}: ${replyable(refusal.message)}`);
        else this.take(raw);
      });
    }
  }

  /**
   * Waits for the decision under `key`; `{ decided: false }` when the deadline passed first. With `reminders`, each
   * goes out at its lead time before the deadline while nothing is decided (a workflow adds them behind a patch: they
   * are timers and activities an older history does not have). The wait's length is recorded as
   * `governor_decision_wait` (ms, by decision and whether one came): time-to-decision for the SLA.
   */
  async wait(
    key: string,
    request: { readonly approvers: readonly string[]; readonly deadline: Duration; readonly info: Info; readonly reminders?: DecisionReminders },
  ): Promise<GateOutcome<D>> {
    const startedAt = new Date().getTime();
    const deadlineAt = startedAt + durationMs(request.deadline);
    const pending: PendingDecision<Info> = { key, approvers: request.approvers, deadline: new Date(deadlineAt).toISOString(), info: request.info, reminded: [] };
    this.open.set(key, pending);
    const decided = () => this.decisions.has(key);
    try {
      const reminders = request.reminders;
      if (!reminders || reminders.before.length === 0) {
        await condition(decided, request.deadline);
      } else {
        const times = reminders.before
          .slice(0, 5)
          .map((lead) => deadlineAt - durationMs(lead))
          .filter((at) => at > startedAt)
          .sort((a, b) => a - b);
        for (const at of times) {
          if (await condition(decided, Math.max(1, at - new Date().getTime()))) break;
          await reminders.send({ key, deadline: pending.deadline, remainingMs: deadlineAt - new Date().getTime(), approvers: request.approvers });
          pending.reminded.push(new Date().toISOString());
        }
        if (!decided()) await condition(decided, Math.max(1, deadlineAt - new Date().getTime()));
      }
    } finally {
      this.open.delete(key);
    }
    const decision = this.decisions.get(key);
    metricMeter
      .createHistogram('governor_decision_wait', 'int', 'ms', 'How long a decision waited for a person (to the decision, or to the deadline)')
      .withTags({ decision: this.options.update.name, decided: String(decision !== undefined) })
      .record(new Date().getTime() - startedAt);
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
