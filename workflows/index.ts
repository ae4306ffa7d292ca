/**
 * `governor/workflow`: the deterministic governing kit, safe inside Temporal's workflow sandbox. A governed model
 * step, a governed tool call, one decision gate for every human decision, budgets and the ledger, resource leases,
 * summaries from evidence, and the descriptor that drives the client, the CLI and the review queue.
 *
 * A worker's workflow bundle must also export `resourceLease` (one owner per written resource):
 * `export { resourceLease } from 'governor/workflow';`
 */
export { DecisionGate, type DecisionGateOptions, type DecisionReminders, type GateOutcome, type PendingDecision } from './approval.js';
export { chainUnder, controlsRead, readWorkflowControls } from './controls.js';
export { countContextTokens } from './context.js';
export {
  defineDecision,
  defineWorkflow,
  type AnyWorkflowDescriptor,
  type ChoiceField,
  type DecisionChoice,
  type DecisionDescriptor,
  type ModelChoice,
  type ReviewView,
  type RunDetail,
  type WaitingDecision,
  type WaitingKind,
  type WorkflowDescriptor,
} from './descriptor.js';
export { deadlineAfter, durationMs } from './duration.js';
export { Leases, type LeaseOptions } from './lease.js';
export { resourceLease, type ResourceLeaseInput } from './lease-workflow.js';
export { charge, costOf, emptyLedger, estimateCall, exhausted, priceOf } from './ledger.js';
export {
  governedModelStep,
  isRegisteredPrompt,
  promptRefOf,
  stepPrompt,
  type InlineStepPrompt,
  type ModelStepOptions,
  type ModelStepOutcome,
  type PromptSpec,
  type RegisteredStepPrompt,
  type StepPrompt,
  type TrailEntry,
} from './model-step.js';
export { jsonSchemaOf, repairTurn } from './prompt.js';
export { codePinned, pinRead, pinRun, stepPromptOf } from './prompt-pin.js';
export { readOf, readTogether, type Read, type ReadValue } from './reads.js';
export { queueForGrading, recordReviewDecision, routeThisRun, type ReviewRecordRequest } from './sampling.js';
export { governorSearchAttributes, searchAttributeKeys, type AnySearchAttributeKey } from './search-attributes.js';
export { SearchAttributeBatch } from './attribute-batch.js';
export { kitMetrics } from './metrics.js';
export { nextStep, type StepRecord, type StepStatus } from './step.js';
export { succeeded, summarizeFromEvidence, type ActionSummary, type ClaimCheck, type ClaimRule, type EvidenceSummary } from './summary.js';
export {
  governedToolCall,
  type ApprovalAnswer,
  type ApprovalRequest,
  type ToolCall,
  type ToolCallOutcome,
  type ToolStepContext,
} from './tool-step.js';
export { validateOutput, type BusinessRule, type Validation } from './validate.js';
export {
  AGENT_PHASE_REQUIRES,
  AGENT_PHASES,
  AgentMove,
  AgentSummary,
  agentMoveSchema,
  agentSummarySchema,
  emptyAgentState,
  runAgent,
  type AgentCarry,
  type AgentOptions,
  type AgentPhase,
  type AgentSpend,
  type AgentState,
  type AgentStop,
  type AgentTurn,
} from './agent.js';
export { ChunkSummary, cleanDocument, runDocumentPipeline, splitDocument, type ChunkResult, type PipelineOptions, type PipelineResult } from './pipeline.js';
