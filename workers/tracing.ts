import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { setTraceContent } from '../activities/spans.js';

export interface TracingOptions {
  /** `service.name` of every span this process exports (default `governor-worker`). */
  readonly serviceName?: string;
  /**
   * The OTLP/HTTP traces endpoint (`http://collector:4318/v1/traces`). Default: the exporter's own configuration,
   * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT` (+ `/v1/traces`), headers from
   * `OTEL_EXPORTER_OTLP_HEADERS`.
   */
  readonly url?: string;
  /** Another exporter instead of OTLP/HTTP (an in-memory one in a test, a vendor's). */
  readonly exporter?: SpanExporter;
  /**
   * Put prompt and reply text on model-call spans (`gen_ai.system_instructions`, `gen_ai.input.messages`,
   * `gen_ai.output.messages`). Off by default: ticket bodies are personal data, and a trace store is rarely held to
   * the same rules as the evidence store.
   */
  readonly captureContent?: boolean;
}

/**
 * OpenTelemetry tracing for a Governor process: Temporal's own interceptors (client → workflow → activity, the trace
 * context carried in Temporal headers, workflow spans exported through a sink so replay never re-exports them) plus
 * Governor's spans — one per model call with the GenAI attributes, one per tool call with its permission and evidence.
 */
export interface Tracing {
  /** Pass to `createGovernorWorker({ tracing })`, `bundleWorkflows({ tracing })` and `GovernorClient.connect({ tracing })`. */
  readonly plugin: OpenTelemetryPlugin;
  readonly provider: NodeTracerProvider;
  readonly captureContent: boolean;
  /** Turns content capture on or off for the spans that follow. */
  setCaptureContent(on: boolean): void;
  /** Exports what is buffered. */
  flush(): Promise<void>;
  /** Flushes and stops exporting. */
  shutdown(): Promise<void>;
}

/**
 * Starts tracing for this process: a tracer provider registered as the global one (so activity code and libraries
 * that use `@opentelemetry/api` join the same traces), spans batched to the exporter.
 */
export function createTracing(options: TracingOptions = {}): Tracing {
  const resource = new Resource({ 'service.name': options.serviceName ?? 'governor-worker' });
  const exporter = options.exporter ?? new OTLPTraceExporter(options.url ? { url: options.url } : {});
  // Batched: a span's export never sits on an activity's or a workflow task's path.
  const processor: SpanProcessor = new BatchSpanProcessor(exporter, { maxQueueSize: 4096, scheduledDelayMillis: 1000 });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  provider.register();
  let captureContent = options.captureContent ?? false;
  setTraceContent(captureContent);
  return {
    plugin: new OpenTelemetryPlugin({ resource, spanProcessor: processor }),
    provider,
    get captureContent() {
      return captureContent;
    },
    setCaptureContent(on) {
      captureContent = on;
      setTraceContent(on);
    },
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

/**
 * Tracing from the standard OpenTelemetry variables: on when `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_ENDPOINT` is set (and `OTEL_SDK_DISABLED` is not `true`); `OTEL_SERVICE_NAME` names the
 * service; `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true` captures prompt and reply text.
 */
export function tracingFromEnv(env: NodeJS.ProcessEnv = process.env, serviceName = 'governor-worker'): Tracing | undefined {
  if (env.OTEL_SDK_DISABLED === 'true') return undefined;
  if (!env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT && !env.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  return createTracing({
    serviceName: env.OTEL_SERVICE_NAME || serviceName,
    captureContent: env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT === 'true',
  });
}
