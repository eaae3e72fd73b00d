import type { Attributes, HrTime } from '@opentelemetry/api';
import type { DataPoint, Histogram, ResourceMetrics } from '@opentelemetry/sdk-metrics';

/** An exemplar in the shape of the SDK's `Exemplar` type. */
export interface PointExemplar {
  filteredAttributes: Attributes;
  value: number;
  timestamp: HrTime;
  traceId: string;
  spanId: string;
}

/**
 * A histogram data point with exemplars. The JS SDK (2.x and 3.x) neither attaches exemplars to
 * data points nor serializes them, so tasklens's own histograms carry them in this field and
 * {@link withExemplars} writes them into the OTLP request.
 */
export type DataPointWithExemplars = DataPoint<Histogram> & { exemplars?: PointExemplar[] };

interface OtlpJsonExemplar {
  timeUnixNano: string;
  asDouble: number;
  traceId: string;
  spanId: string;
}

interface OtlpJsonRequest {
  resourceMetrics?: {
    scopeMetrics?: {
      metrics?: { histogram?: { dataPoints?: { exemplars?: OtlpJsonExemplar[] }[] } }[];
    }[];
  }[];
}

function nanosOf([seconds, nanos]: HrTime): string {
  return (BigInt(seconds) * 1_000_000_000n + BigInt(nanos)).toString();
}

function hasExemplars(metrics: ResourceMetrics): boolean {
  return metrics.scopeMetrics.some((scope) =>
    scope.metrics.some((metric) =>
      metric.dataPoints.some((point) => (point as DataPointWithExemplars).exemplars !== undefined),
    ),
  );
}

/**
 * The OTLP/JSON request `body`, serialized from `metrics` by the SDK's serializer, with the
 * exemplars of the data points that have them (trace and span ids in hex, as OTLP/JSON writes
 * them). The serializer keeps the order of scopes, metrics and points, which pairs them up.
 * `body` itself when no point has exemplars.
 */
export function withExemplars(body: Uint8Array, metrics: ResourceMetrics): Uint8Array {
  if (!hasExemplars(metrics)) return body;
  const request = JSON.parse(new TextDecoder().decode(body)) as OtlpJsonRequest;
  const scopes = request.resourceMetrics?.[0]?.scopeMetrics ?? [];
  metrics.scopeMetrics.forEach((scope, scopeIndex) => {
    scope.metrics.forEach((metric, metricIndex) => {
      const jsonPoints = scopes[scopeIndex]?.metrics?.[metricIndex]?.histogram?.dataPoints;
      if (jsonPoints === undefined) return;
      metric.dataPoints.forEach((point, pointIndex) => {
        const { exemplars } = point as DataPointWithExemplars;
        const jsonPoint = jsonPoints[pointIndex];
        if (exemplars === undefined || jsonPoint === undefined) return;
        jsonPoint.exemplars = exemplars.map(({ value, timestamp, traceId, spanId }) => ({
          timeUnixNano: nanosOf(timestamp),
          asDouble: value,
          traceId,
          spanId,
        }));
      });
    });
  });
  return new TextEncoder().encode(JSON.stringify(request));
}
