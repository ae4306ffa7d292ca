/**
 * `governor/client`: start governed runs from trigger events, send people's decisions, read state and the review
 * queue — all driven by workflow descriptors — and the CLI, for adopters who want `governor` for their own workflows.
 */
export * from './governor-client.js';
export { temporalConnectionConfig, type TemporalConnectionConfig, type TemporalConnectionOptions } from '../activities/temporal-connection.js';
export { AesGcmPayloadCodec, codecKeysFromEnv, encryptedDataConverter, type CodecKeys } from '../activities/payload-codec.js';
export { createCli, EXIT, runAsMain, runCli, type CliHelpers, type CliOptions, type StartFlag } from './cli.js';
export type { AnyWorkflowDescriptor, DecisionDescriptor, ModelChoice, ReviewView, RunDetail, WaitingDecision, WorkflowDescriptor } from '../workflows/descriptor.js';
export { evaluateSlos, formatSloTable, sloRulesYaml, type SloStatus } from './slo.js';
export { PrometheusError, queryRange, queryScalar, queryVector, type Sample, type Series } from '../workers/prometheus.js';
export { buildReport, formatReport, reportHtml, sloHtml, type RunReport, type WorkflowReport } from './report.js';
export { ConsoleAuthError, ConsoleRole, issueConsoleToken, signConsoleToken, verifyConsoleToken, type ConsoleIdentity, type ConsoleTokenRequest } from './console-tokens.js';
export { reviewSource, type ReviewQuery, type ReviewSource, type ReviewSourceOptions } from './review-source.js';
