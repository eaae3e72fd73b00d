import type { HrTime } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType } from '@opentelemetry/sdk-metrics';
import type { DataPoint, Histogram, MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';

/** A series as the backend keys it: metric name and attribute set (the resource is the process's). */
function seriesKey(metric: MetricData, point: DataPoint<unknown>): string {
  return `${metric.descriptor.name}\u0000${JSON.stringify(Object.entries(point.attributes).sort())}`;
}

function isBefore([seconds, nanos]: HrTime, [laterSeconds, laterNanos]: HrTime): boolean {
  return seconds < laterSeconds || (seconds === laterSeconds && nanos < laterNanos);
}

/**
 * When the zero goes: at the series' start, or 1 ms before its point when both fall on the same
 * instant (the SDK takes record and collection times to the millisecond, so a series recorded
 * and collected within one has a start equal to its end), since a backend keeps one sample per
 * timestamp.
 */
function zeroTime(point: DataPoint<unknown>): HrTime {
  if (isBefore(point.startTime, point.endTime)) return point.startTime;
  const [seconds, nanos] = point.endTime;
  return nanos >= 1e6 ? [seconds, nanos - 1e6] : [seconds - 1, nanos + 1e9 - 1e6];
}

/** The point a cumulative series had at its start: nothing counted yet. */
function zeroAtStart(metric: MetricData, point: DataPoint<unknown>): DataPoint<unknown> {
  const time = zeroTime(point);
  if (metric.dataPointType === DataPointType.HISTOGRAM) {
    const { buckets } = (point as DataPoint<Histogram>).value;
    const value: Histogram = {
      buckets: { boundaries: buckets.boundaries, counts: buckets.counts.map(() => 0) },
      sum: 0,
      count: 0,
    };
    return { attributes: point.attributes, startTime: time, endTime: time, value };
  }
  return { attributes: point.attributes, startTime: time, endTime: time, value: 0 };
}

function countsFromZero(metric: MetricData): boolean {
  if (metric.aggregationTemporality !== AggregationTemporality.CUMULATIVE) return false;
  return (
    metric.dataPointType === DataPointType.HISTOGRAM ||
    (metric.dataPointType === DataPointType.SUM && metric.isMonotonic)
  );
}

/**
 * Adds, before the first point of each new cumulative series (histograms and monotonic sums), a
 * zero point at the series' start time. A backend that keeps no start time (Prometheus remote
 * write 1.0, most remote-write stores) then holds two samples for a series a process reported
 * once, so `increase()` and `rate()` count a one-shot `tasklens run` process; a backend that uses
 * start times (Prometheus's OTLP receiver with created-timestamp zero ingestion) finds the same
 * zero it would have made itself. Only the first export that reaches the collector carries a
 * series' zero: until one is {@link SeriesStartPoints.delivered}, every export (and the one
 * spooled at exit) carries it again.
 */
export class SeriesStartPoints {
  private readonly started = new Set<string>();

  /**
   * `metrics` with the zero points of the series not yet delivered (new objects: `metrics` is
   * not changed), and the keys to pass to {@link delivered} once the collector took them.
   */
  add(metrics: ResourceMetrics): { metrics: ResourceMetrics; newSeries: string[] } {
    const newSeries: string[] = [];
    const scopeMetrics = metrics.scopeMetrics.map((scope) => ({
      scope: scope.scope,
      metrics: scope.metrics.map((metric): MetricData => {
        if (!countsFromZero(metric)) return metric;
        const dataPoints: DataPoint<unknown>[] = [];
        for (const point of metric.dataPoints as DataPoint<unknown>[]) {
          const key = seriesKey(metric, point);
          if (!this.started.has(key)) {
            dataPoints.push(zeroAtStart(metric, point));
            newSeries.push(key);
          }
          dataPoints.push(point);
        }
        return { ...metric, dataPoints } as MetricData;
      }),
    }));
    return { metrics: { resource: metrics.resource, scopeMetrics }, newSeries };
  }

  /** The collector acknowledged these series' zero points (or the spool holds them). */
  delivered(newSeries: readonly string[]): void {
    for (const key of newSeries) this.started.add(key);
  }
}
