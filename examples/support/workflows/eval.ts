import { workflowInfo } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { Budgets, type ModelRef, type PromptRecord } from 'governor';
import { emptyLedger, governedModelStep, stepPromptOf, type BusinessRule } from 'governor/workflow';
import { TicketClassification, type TicketContext } from '../contracts/triage.js';
import { renderClassifierMessages, renderRepairMessages } from '../prompts/support-ticket-classifier.js';

export interface EvalCaseInput {
  /** The version under evaluation, pinned in the run's input. */
  readonly prompt: PromptRecord;
  readonly ticket: { readonly subject: string; readonly body: string };
  readonly chain: readonly ModelRef[];
  readonly confidenceThreshold: number;
}

export interface EvalCaseResult {
  readonly status: string;
  readonly category: string | null;
  readonly urgency: string | null;
  readonly confidence: number | null;
  /** Whether triage would send it to a person. */
  readonly review: boolean;
  /** Whether triage would escalate it (billing, high urgency) on its own. */
  readonly escalate: boolean;
  /** The model's first reply passed validation (before any repair); null when no model answered. */
  readonly firstReplyValid: boolean | null;
  readonly modelCalls: number;
  readonly latencyMs: number;
  readonly usd: number;
}

const rules: ReadonlyArray<BusinessRule<TicketClassification>> = [
  { id: 'reason-not-blank', check: (c) => (c.reason.trim().length === 0 ? { field: 'reason', rule: 'must explain the classification' } : null) },
];

/**
 * One eval case through the real governed step — validation, bounded repair, the confidence gate, budgets — with the
 * prompt version under evaluation, exactly as triage runs it, and nothing applied: what `governor eval` scores.
 */
export async function evalTicketClassification(input: EvalCaseInput): Promise<EvalCaseResult> {
  const started = workflowInfo().runStartTime.getTime();
  const ledger = emptyLedger();
  const ctx: TicketContext = {
    ticket: { id: 'tkt_eval', subject: input.ticket.subject, body: input.ticket.body, channel: 'email', language: 'en' },
    customer: { id: 'cus_eval', plan: 'pro', arr: 0, region: 'us' },
    history: [],
  };
  let firstReplyValid: boolean | null = null;
  const outcome = await governedModelStep({
    step: 'classify',
    prompt: stepPromptOf({ record: input.prompt, hash: null, label: null }),
    schema: TicketClassification,
    rules,
    messages: renderClassifierMessages(ctx),
    repair: renderRepairMessages,
    chain: input.chain,
    budgets: Budgets.parse({}),
    ledger,
    confidence: { of: (c) => c.confidence, threshold: input.confidenceThreshold },
    callTimeout: '60s' as Duration,
    onCall: (_reply, valid) => {
      firstReplyValid ??= valid;
    },
  });
  const value = 'value' in outcome ? outcome.value : null;
  return {
    status: outcome.status,
    category: value?.category ?? null,
    urgency: value?.urgency ?? null,
    confidence: value?.confidence ?? null,
    review: outcome.status !== 'ok',
    escalate: outcome.status === 'ok' && value?.category === 'billing' && value.urgency === 'high',
    firstReplyValid,
    modelCalls: ledger.modelCalls,
    latencyMs: new Date().getTime() - started,
    usd: ledger.usd,
  };
}
