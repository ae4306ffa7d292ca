import { z } from 'zod';
import { Budgets, ContextBudget, Duration, id, ModelRef, ReviewerId } from 'governor';
import type { AgentCarry } from 'governor/workflow';

/** Trigger contract `support_agent.requested`, schema version 1: an investigation a support agent carries out with tools. */
export const AGENT_REQUESTED = 'support_agent.requested';

export const AgentRequested = z.strictObject({
  event: z.literal(AGENT_REQUESTED),
  schema_version: z.literal(1).default(1),
  event_id: id('evt'),
  created_at: z.iso.datetime({ offset: true, message: 'must be an ISO-8601 timestamp' }),
  ticket_id: id('tkt'),
  customer_id: id('cus'),
  task: z.string().trim().min(1, 'must not be empty').max(2_000, 'must be at most 2000 characters'),
  /** Facts the agent must never lose (a case reference, a constraint): pinned in every turn's context. */
  pinned: z.array(z.string().trim().min(1).max(300)).max(10, 'at most ten pinned facts').default([]),
});
export type AgentRequested = z.infer<typeof AgentRequested>;

export const AgentConfig = z.strictObject({
  /** Turns across every continued run. */
  maxTurns: z.number().int().min(1).max(2_000).default(40),
  /** Turns per run before it continues as new (history stays short whatever the task's length). */
  turnsPerRun: z.number().int().min(2).max(200).default(20),
  /** Loops broken by replanning before the agent stops. */
  maxReplans: z.number().int().min(0).max(5).default(2),
  context: ContextBudget.prefault({ maxInputTokens: 6_000 }),
  modelChain: z.array(ModelRef).min(1).max(4).optional(),
  model: ModelRef.optional(),
  /** Bounds of each run's model steps. */
  budgets: Budgets.prefault({ maxModelCalls: 50, maxTokens: 400_000, maxUsd: 1 }),
  /** The agent's bounds across every run. */
  maxUsd: z.number().positive().default(5),
  maxTokens: z.number().int().positive().default(5_000_000),
  modelCallTimeout: Duration.default('60s'),
  approvalDeadline: Duration.default('24h'),
  /** Who may guide the agent when it loops past its replans, and how long it waits for them. */
  guides: z.array(z.string().trim().min(1)).min(1).default(['usr_442']),
  guideDeadline: Duration.default('24h'),
});
export type AgentConfig = z.infer<typeof AgentConfig>;

/** A person's guidance to an agent that kept looping: pinned for every turn after. */
export const AgentGuidance = z.strictObject({
  reviewerId: ReviewerId,
  guidance: z.string().trim().min(1, 'say what the agent should do').max(1000),
});
export type AgentGuidance = z.infer<typeof AgentGuidance>;

/** The workflow's argument: the event, the resolved config and, in a continued run, what the last run carried. */
export interface AgentInput {
  readonly event: AgentRequested;
  readonly config: AgentConfig;
  readonly carry?: AgentCarry;
}
