/**
 * Model providers: the adapter interface, the three built-in adapters, the registry the model-call activity uses,
 * and the pieces a new adapter needs (failure classification, reply reading). Re-exported by the worker entry point.
 */
export { DEFAULT_MODEL_TIMEOUT_MS, type AdapterSettings, type ProviderAdapter, type ProviderReply } from './adapter.js';
export { ANTHROPIC_PRICES, anthropicProvider, type AnthropicSettings } from './anthropic.js';
export { OPENAI_PRICES, openaiProvider, type OpenAISettings, type StructuredOutputMode } from './openai.js';
export { openaiCompatibleProvider, type OpenAICompatibleSettings } from './openai-compatible.js';
export {
  classifyHttpError,
  classifySdkError,
  connectionFailure,
  MAX_RETRY_AFTER_MS,
  modelRefused,
  providerFailure,
  retryAfterMs,
  timeoutFailure,
  unclassifiedFailure,
  type ErrorHeaders,
  type HttpErrorLike,
  type SdkErrorClasses,
} from './errors.js';
export { extractJson, readReply } from './json.js';
export {
  adaptersFromConfig,
  callModel,
  createProviders,
  DEFAULT_OPENAI_COMPATIBLE_NAME,
  providersConfigFromEnv,
  providersFromEnv,
  type Providers,
  type ProvidersConfig,
  type ProviderSettings,
} from './registry.js';
