/*
 * A real OTel SDK registered globally, exporting to memory: spans through a SimpleSpanProcessor
 * into an InMemorySpanExporter, metrics through a reader collected on demand (cumulative).
 * Shared by the unit tests of every package.
 */
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { DataPoint, Histogram } from '@opentelemetry/sdk-metrics';
import {
  TracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';

class CollectingReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** One metric data point, flattened for exact assertions. */
export interface MetricPoint {
  attributes: Attributes;
  /** Sum for counters and gauges' value; for histograms, see `count`, `sum` and `buckets`. */
  value: number;
  count?: number;
  sum?: number;
  buckets?: { boundaries: number[]; counts: number[] };
}

export interface InMemoryTelemetry {
  exporter: InMemorySpanExporter;
  /** Finished spans, in end order. */
  spans(): ReadableSpan[];
  /** Points of one metric by its instrument name (`task.duration`), sorted by attributes. */
  metricPoints(name: string): Promise<MetricPoint[]>;
  /** Clears finished spans (metrics are cumulative: use a fresh task name per test). */
  reset(): void;
  shutdown(): Promise<void>;
}

function toPoint(point: DataPoint<unknown>): MetricPoint {
  const value = point.value;
  if (typeof value === 'number') return { attributes: point.attributes, value };
  const histogram = value as Histogram;
  return {
    attributes: point.attributes,
    value: histogram.count,
    count: histogram.count,
    sum: histogram.sum,
    buckets: histogram.buckets,
  };
}

/** Registers the SDK globally (once per test file) and returns accessors for what it recorded. */
export function startInMemoryTelemetry(): InMemoryTelemetry {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
  );
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  return {
    exporter,
    spans: () => exporter.getFinishedSpans(),
    async metricPoints(name) {
      const { resourceMetrics } = await reader.collect();
      const points = resourceMetrics.scopeMetrics
        .flatMap((scope) => scope.metrics)
        .filter((metric) => metric.descriptor.name === name)
        .flatMap((metric) => metric.dataPoints as DataPoint<unknown>[])
        .map(toPoint);
      return points.sort((a, b) =>
        JSON.stringify(a.attributes).localeCompare(JSON.stringify(b.attributes)),
      );
    },
    reset: () => exporter.reset(),
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      trace.disable();
      metrics.disable();
      propagation.disable();
      context.disable();
    },
  };
}
