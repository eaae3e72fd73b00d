/*
 * The one place where the repository's tests, fixture processes and benchmarks register a real
 * OTel SDK globally (W3C propagators, async-local context, tracer and meter providers), with the
 * processor, exporters and reader each of them needs, and take it down again.
 */
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  ExportResultCode,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import {
  AggregationTemporality,
  MeterProvider,
  MetricReader,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import {
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { ReadableSpan, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import { TaskMetricsProducer } from '@tasklens/node';

/** What the registered SDK does with spans and metrics; every field has a default. */
export interface SdkOptions {
  /**
   * How ended spans reach the exporter: `simple` (a SimpleSpanProcessor: each span is exported as
   * it ends, so a test sees it at once) or `batch` (a BatchSpanProcessor, the shape a service runs
   * with). Default `simple`.
   */
  spanProcessor?: 'simple' | 'batch';
  /**
   * Where spans go: `memory` (an InMemorySpanExporter, read back with `finishedSpans()`) or
   * `discard` (an exporter that accepts everything and keeps nothing). Default `memory`.
   */
  spanExporter?: 'memory' | 'discard';
  /**
   * The metrics side: `collect` (a cumulative reader collected on demand with
   * `collectMetrics()`), `periodic` (a PeriodicExportingMetricReader every 10 s into a cumulative
   * exporter that keeps nothing) or `none` (no meter provider is registered). Default `collect`.
   */
  metricReader?: 'collect' | 'periodic' | 'none';
  /**
   * Who keeps the task histograms: `sdk` (tasklens records them through the metrics API, as with
   * any SDK) or `tasklens` (core keeps them itself and @tasklens/node's TaskMetricsProducer hands
   * them to the reader, as `startTelemetry()` sets up). Default `sdk`.
   */
  taskHistograms?: 'sdk' | 'tasklens';
}

/** The SDK {@link registerSdk} registered. */
export interface RegisteredSdk {
  readonly tracerProvider: TracerProvider;
  /** `undefined` when `metricReader` is `none`. */
  readonly meterProvider: MeterProvider | undefined;
  /** Spans exported so far, in end order; always empty when `spanExporter` is `discard`. */
  finishedSpans(): ReadableSpan[];
  /** Forgets the spans exported so far. */
  resetSpans(): void;
  /** What the `collect` reader holds now; rejects with another `metricReader`. */
  collectMetrics(): Promise<ResourceMetrics>;
  /** Exports the spans a batch processor still holds. */
  forceFlush(): Promise<void>;
  /** Unregisters every global the SDK set, keeping the providers (see `register`). */
  unregister(): void;
  /** Registers the same providers, propagator and a context manager again after `unregister`. */
  register(): void;
  /** Shuts the providers down and unregisters every global the SDK set. */
  shutdown(): Promise<void>;
}

/** A metric reader that exports nowhere: `collect()` is the only way its data leaves. */
class CollectingReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const succeed = (_items: unknown, resultCallback: (result: ExportResult) => void): void =>
  resultCallback({ code: ExportResultCode.SUCCESS });

const discardingSpanExporter: SpanExporter = {
  export: succeed,
  shutdown: () => Promise.resolve(),
};

const discardingMetricExporter: PushMetricExporter = {
  export: succeed,
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
  selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
};

/**
 * Unregisters whatever tracer and meter provider, propagator and context manager are global (an
 * SDK a test started with `startTelemetry()`, say), so the next test registers its own.
 */
export function unregisterGlobals(): void {
  trace.disable();
  metrics.disable();
  propagation.disable();
  context.disable();
}

/**
 * Registers a real SDK as the global tracer and meter provider, propagator and context manager.
 * One at a time per process: `shutdown()` before registering another.
 *
 * @example
 * // A benchmark: the production processor, nothing kept.
 * const sdk = registerSdk({ spanProcessor: 'batch', spanExporter: 'discard', metricReader: 'periodic' });
 * // ... measure ...
 * await sdk.shutdown();
 */
export function registerSdk(options: SdkOptions = {}): RegisteredSdk {
  const { spanProcessor = 'simple', spanExporter = 'memory', metricReader = 'collect' } = options;
  const memory = spanExporter === 'memory' ? new InMemorySpanExporter() : undefined;
  const exporter = memory ?? discardingSpanExporter;
  const processor: SpanProcessor =
    spanProcessor === 'batch'
      ? new BatchSpanProcessor({ exporter })
      : new SimpleSpanProcessor({ exporter });
  const tracerProvider = new TracerProvider({ spanProcessors: [processor] });

  const taskMetrics = options.taskHistograms === 'tasklens' ? new TaskMetricsProducer() : undefined;
  const metricProducers = taskMetrics === undefined ? [] : [taskMetrics];
  const collecting =
    metricReader === 'collect' ? new CollectingReader({ metricProducers }) : undefined;
  const reader =
    metricReader === 'periodic'
      ? new PeriodicExportingMetricReader({
          exporter: discardingMetricExporter,
          exportIntervalMillis: 10_000,
          metricProducers,
        })
      : collecting;
  const meterProvider = reader === undefined ? undefined : new MeterProvider({ readers: [reader] });
  if (meterProvider !== undefined) taskMetrics?.offerTo(meterProvider);

  const register = (): void => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(
      new CompositePropagator({
        propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
      }),
    );
    trace.setGlobalTracerProvider(tracerProvider);
    if (meterProvider !== undefined) metrics.setGlobalMeterProvider(meterProvider);
  };
  const unregister = unregisterGlobals;
  register();

  return {
    tracerProvider,
    meterProvider,
    finishedSpans: () => memory?.getFinishedSpans() ?? [],
    resetSpans: () => memory?.reset(),
    async collectMetrics() {
      if (collecting === undefined) {
        throw new Error(`collectMetrics() needs metricReader 'collect', not '${metricReader}'`);
      }
      return (await collecting.collect()).resourceMetrics;
    },
    forceFlush: () => tracerProvider.forceFlush(),
    register,
    unregister,
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider?.shutdown();
      unregister();
    },
  };
}

/** A span as a producer fixture process prints it on stdout (plain JSON). */
export interface PrintedSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  /** `undefined` for a root span. */
  parentSpanId: string | undefined;
  attributes: ReadableSpan['attributes'];
  status: ReadableSpan['status'];
}

/** The SDK of a producer fixture process, see {@link startProducerSdk}. */
export interface ProducerSdk {
  /** Flushes, then returns every finished span as plain JSON. */
  finishedSpans(): Promise<PrintedSpan[]>;
  shutdown(): Promise<void>;
}

/**
 * The SDK a producer fixture process of the adapters' cross-process tests registers: real trace
 * context, spans kept in memory and handed back as JSON for the fixture to print; no metrics.
 *
 * @example
 * const sdk = startProducerSdk();
 * // ... publish ...
 * process.stdout.write(JSON.stringify({ spans: await sdk.finishedSpans() }));
 */
export function startProducerSdk(): ProducerSdk {
  const sdk = registerSdk({ metricReader: 'none' });
  return {
    async finishedSpans() {
      await sdk.forceFlush();
      return sdk.finishedSpans().map((span) => ({
        name: span.name,
        kind: span.kind,
        traceId: span.spanContext().traceId,
        spanId: span.spanContext().spanId,
        parentSpanId: span.parentSpanContext?.spanId,
        attributes: span.attributes,
        status: span.status,
      }));
    },
    shutdown: () => sdk.shutdown(),
  };
}
