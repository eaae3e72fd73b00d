/*
 * A new counter or histogram series goes out with a zero point at its start time before its first
 * real point, so a backend without start times (remote write 1.0) counts a process that reported
 * once; once the collector took that zero, later exports carry the running totals only.
 */
import { metrics } from '@opentelemetry/api';
import type { HrTime } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType } from '@opentelemetry/sdk-metrics';
import type { MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { startTaskAttempt } from '@tasklens/core/adapter';
import { startTelemetry } from '@tasklens/node';
import { describe, expect, it } from 'vitest';
import { SeriesStartPoints } from '../src/series-start-points.js';
import { useOtlpReceiver } from './support/otlp-receiver-telemetry.js';

const { receiver, options } = useOtlpReceiver();

function runAttempt(end: 'succeed' | 'fail'): void {
  const attempt = startTaskAttempt({ name: 'resize', queue: 'images', system: 'test' });
  if (end === 'fail') attempt.fail(new TypeError('bad image'));
  else attempt.succeed();
}

function durations(outcome: string) {
  return receiver()
    .metricPoints('task.duration', { withStartPoints: true })
    .filter((point) => point.attributes['task.outcome'] === outcome)
    .map(({ count, bucketCounts, sum, timeUnixNano }) => ({
      count,
      bucketCounts,
      sum,
      timeUnixNano,
    }));
}

describe('zero points at the start of new series', () => {
  it('precede the first point of each histogram and counter series, once', async () => {
    const telemetry = startTelemetry(options());
    const retries = metrics.getMeter('app').createCounter('app.retries');
    runAttempt('succeed');
    retries.add(2, { kind: 'soft' });
    await telemetry.forceFlush();

    const [zero, first] = durations('success');
    expect(zero).toMatchObject({ count: 0, sum: 0 });
    expect(zero.bucketCounts?.every((count) => count === 0)).toBe(true);
    expect(first.count).toBe(1);
    expect(zero.timeUnixNano).toBeLessThan(first.timeUnixNano);
    expect(
      receiver()
        .metricPoints('app.retries', { withStartPoints: true })
        .map((point) => point.value),
    ).toEqual([0, 2]);

    runAttempt('succeed');
    runAttempt('fail');
    await telemetry.shutdown();
    // The success series had its zero already; the failure series is new.
    expect(durations('success').map((point) => point.count)).toEqual([0, 1, 2]);
    expect(durations('failure').map((point) => point.count)).toEqual([0, 1]);
  });

  it('go out again until the collector takes them', async () => {
    // No spool: the refused export is sent again by the next one, not kept on disk.
    const telemetry = startTelemetry(options({ spoolEnabled: false }));
    receiver().respondWith(503);
    runAttempt('fail');
    await telemetry.forceFlush();
    expect(durations('failure')).toEqual([]);

    receiver().respondWith(200);
    await telemetry.shutdown();
    // The zero first, once; then the running total, in each export that follows.
    const [zero, ...totals] = durations('failure').map((point) => point.count);
    expect(zero).toBe(0);
    expect(totals.length).toBeGreaterThan(0);
    expect(totals.every((count) => count === 1)).toBe(true);
  });

  it('go 1 ms before a point whose series started at the same instant', () => {
    // The SDK takes record and collection times to the millisecond: a series recorded and
    // collected within one has a start equal to its end.
    const at: HrTime = [1_765_000_000, 500_000];
    const metric = {
      descriptor: { name: 'app.retries', description: '', unit: '', valueType: 0, type: 'COUNTER' },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints: [{ attributes: { kind: 'soft' }, startTime: at, endTime: at, value: 2 }],
    } as unknown as MetricData;
    const collected: ResourceMetrics = {
      resource: resourceFromAttributes({}),
      scopeMetrics: [{ scope: { name: 'app' }, metrics: [metric] }],
    };
    const { metrics: withZeros, newSeries } = new SeriesStartPoints().add(collected);
    const points = withZeros.scopeMetrics[0].metrics[0].dataPoints;
    expect(newSeries).toHaveLength(1);
    expect(points.map((point) => [point.value, point.endTime])).toEqual([
      [0, [1_765_000_000 - 1, 1e9 - 500_000]],
      [2, at],
    ]);
  });
});
