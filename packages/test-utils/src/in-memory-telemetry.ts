/*
 * A real OTel SDK registered globally, exporting to memory: spans through a SimpleSpanProcessor
 * into an InMemorySpanExporter, metrics through a reader collected on demand (cumulative).
 * Shared by the unit tests of every package.
 */
import type { Attributes } from '@opentelemetry/api';
import type { DataPoint, Histogram } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { registerSdk } from './register-sdk.js';

/** One metric data point, flattened for exact assertions. */
export interface MetricPoint {
  attributes: Attributes;
  /** Sum for counters and gauges' value; for histograms, see `count`, `sum` and `buckets`. */
  value: number;
  count?: number;
  sum?: number;
  buckets?: { boundaries: number[]; counts: number[] };
}

/** What {@link startInMemoryTelemetry} registered, and accessors for what it recorded. */
export interface InMemoryTelemetry {
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

/**
 * Registers the SDK globally (once per test file, {@link registerSdk} with its defaults) and
 * returns accessors for what it recorded.
 *
 * @example
 * const telemetry = startInMemoryTelemetry();
 * afterAll(() => telemetry.shutdown());
 * await runTask({ name: 'send-email' }, work);
 * expect(telemetry.spans().map((span) => span.name)).toEqual(['send-email']);
 */
export function startInMemoryTelemetry(): InMemoryTelemetry {
  const sdk = registerSdk();
  return {
    spans: () => sdk.finishedSpans(),
    async metricPoints(name) {
      const resourceMetrics = await sdk.collectMetrics();
      const points = resourceMetrics.scopeMetrics
        .flatMap((scope) => scope.metrics)
        .filter((metric) => metric.descriptor.name === name)
        .flatMap((metric) => metric.dataPoints as DataPoint<unknown>[])
        .map(toPoint);
      return points.sort((a, b) =>
        JSON.stringify(a.attributes).localeCompare(JSON.stringify(b.attributes)),
      );
    },
    reset: () => sdk.resetSpans(),
    shutdown: () => sdk.shutdown(),
  };
}
