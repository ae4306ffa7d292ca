/**
 * `governor/worker`: what runs on a worker — the worker factory, the activities (model calls, permission checks,
 * tool executions with evidence), provider adapters, the store, circuit breakers, metrics, external effects and the
 * outbox relay.
 */
export { createActivities, type Activities, type ActivityDeps, type ToolRequest } from '../activities/index.js';
export { BreakerRegistry, type BreakerSettings, type BreakerSnapshot, type BreakerState } from '../activities/breakers.js';
export { evidenceById, evidenceForWorkflow, executeOnce, recordOutcome, verifyEvidence, type EffectResult, type VerifyReport } from '../activities/evidence.js';
export * from '../activities/external.js';
export * from '../activities/outbox-relay.js';
export * from '../activities/payload-codec.js';
export { admitModelCall, recordSpend, spendLimits, spentToday, SpendLimits, type SpendLimitsInput } from '../activities/spend.js';
export { countTokens, tokenizerCount, tokenizerCountRequest, type TokenCount, type TokenCountRequest } from '../activities/tokens.js';
export { CLAIM_CHECK_ENCODING, ClaimCheckCodec, type ClaimCheckOptions } from '../activities/claim-check.js';
export { temporalConnectionConfig, type TemporalConnectionConfig, type TemporalConnectionOptions } from '../activities/temporal-connection.js';
export { startCodecServer, type CodecServer, type CodecServerOptions } from './codec-server.js';
export { verifyHandoff } from '../activities/handoff.js';
export * from '../activities/providers/index.js';
export { openPglite, openPostgres, type Sql, type SqlQueryable, type SqlTransaction } from '../activities/sql.js';
export { canonicalJson, migrate, openStore, sha256, type Store, type StoreOptions } from '../activities/store.js';
export { implementTool, type AnyToolImplementation, type ToolContext, type ToolImplementation } from '../activities/tools.js';
export { loopbackMetricsAddress, startMetricsServer, type MetricsServer, type MetricsServerOptions } from './metrics.js';
export { loadPolicyFile } from './policy.js';
export { createLogger, DEFAULT_REDACT_PATHS, redactPathsFromEnv, temporalLogger, type LoggerOptions } from './logger.js';
export { HISTOGRAM_BUCKETS, installRuntime } from './runtime.js';
export { bundleWorkflows, createGovernorWorker, quietBundlerLogger, writeWorkflowBundle, type BundleOptions, type GovernorWorker, type GovernorWorkerOptions } from './worker.js';
export { createTracing, tracingFromEnv, type Tracing, type TracingOptions } from './tracing.js';
export { createSloMonitor, type SloMonitor, type SloMonitorOptions } from './slo-monitor.js';
export { CONTROL_NAMES, controlChanges, readControls, setControl, type ControlChange, type ControlName } from '../activities/controls.js';
export {
  getPromptVersion,
  labelChanges,
  labelledVersion,
  listPromptVersions,
  moveLabel,
  promptHash,
  PromptRegistryError,
  demoteFailedVersion,
  endRollout,
  latestEvals,
  readRollout,
  recordEvalResult,
  requirePassingEval,
  registerPrompt,
  registeredCallResolver,
  registeredPrompts,
  resolvePrompt,
  resolveRun,
  rollbackLabel,
  setRollout,
  type EvalResult,
  type LabelChange,
  type PromptVersionRow,
} from '../activities/prompt-registry.js';
export {
  gradeRun,
  gradingItem,
  gradesTotal,
  listReviewRecords,
  listToGrade,
  queueForGrading,
  recordGradeMetric,
  recordReview,
  ReviewInputInvalid,
  type GradeInput,
  type GradeOutcome,
  type GradingRow,
  type ReviewRecordInput,
} from '../activities/reviews.js';
