/*
 * A new counter or histogram series goes out with a zero point at its start time before its first
 * real point, so a backend without start times (remote write 1.0) counts a process that reported
 * once; once the collector took that zero, later exports carry the running totals only.
 */
import { metrics } from '@opentelemetry/api';
import { startTaskAttempt } from '@tasklens/core/adapter';
import { startTelemetry } from '@tasklens/node';
import { describe, expect, it } from 'vitest';
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
});
