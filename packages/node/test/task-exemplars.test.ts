/*
 * Exemplars: the duration and wait points of the task histograms tasklens keeps carry the trace
 * and span of the latest sampled attempt in each bucket, over OTLP/JSON as the collector gets them.
 */
import { startTaskAttempt } from '@tasklens/core/adapter';
import { startTelemetry } from '@tasklens/node';
import type { ReceivedMetricPoint } from '@tasklens/test-utils';
import { describe, expect, it, vi } from 'vitest';
import { useOtlpReceiver } from './support/otlp-receiver-telemetry.js';

const { receiver, options } = useOtlpReceiver();

/**
 * Two failures and a success of one task, each waiting 30 ms in its queue and running 2 ms, on
 * fake clocks (so that both failures fall in the first bucket however busy the machine is);
 * their span contexts.
 */
function runAttempts() {
  vi.useFakeTimers({ toFake: ['performance', 'Date'], now: Date.now() });
  try {
    const attempts = ['fail', 'fail', 'succeed'].map((end) => {
      const attempt = startTaskAttempt({
        name: 'charge',
        queue: 'payments',
        system: 'test',
        waitStartedAt: Date.now() - 30,
      });
      vi.advanceTimersByTime(2);
      if (end === 'fail') attempt.fail(new TypeError('card declined'));
      else attempt.succeed();
      return attempt.span.spanContext();
    });
    return { failures: attempts.slice(0, 2), success: attempts[2] };
  } finally {
    vi.useRealTimers();
  }
}

function point(name: string, outcome?: string): ReceivedMetricPoint {
  const points = receiver()
    .metricPoints(name)
    .filter((candidate) => candidate.attributes['task.outcome'] === outcome);
  expect(points).toHaveLength(1);
  return points[0];
}

describe('task histogram exemplars', () => {
  it('link each bucket to the latest sampled attempt recorded in it, failures apart', async () => {
    const telemetry = startTelemetry(options());
    const before = BigInt(Date.now()) * 1_000_000n;
    const { failures, success } = runAttempts();
    await telemetry.shutdown();

    const failure = point('task.duration', 'failure');
    expect(failure.count).toBe(2);
    // Both failures fall in the first bucket: the later one is its exemplar.
    expect(failure.exemplars).toHaveLength(1);
    const [exemplar] = failure.exemplars;
    expect(exemplar).toMatchObject({ traceId: failures[1].traceId, spanId: failures[1].spanId });
    expect(exemplar.value).toBeCloseTo(0.002, 6);
    expect(exemplar.timeUnixNano).toBeGreaterThanOrEqual(before);

    expect(point('task.duration', 'success').exemplars).toEqual([
      expect.objectContaining({ traceId: success.traceId, spanId: success.spanId }),
    ]);
    // The three waits of about 30 ms share a bucket too: the last attempt's span is its exemplar.
    const wait = point('task.wait.duration');
    expect(wait.exemplars).toEqual([
      expect.objectContaining({ traceId: success.traceId, spanId: success.spanId }),
    ]);
    expect(wait.exemplars[0].value).toBeCloseTo(0.03, 6);
    expect(
      receiver()
        .spans()
        .map((span) => span.spanId),
    ).toContain(failures[1].spanId);
  });

  it('never come from an attempt whose trace was sampled out', async () => {
    const telemetry = startTelemetry(options({ sampler: 'always_off' }));
    runAttempts();
    await telemetry.shutdown();

    expect(receiver().spans()).toEqual([]);
    expect(point('task.duration', 'failure').count).toBe(2);
    expect(point('task.duration', 'success').exemplars).toEqual([]);
    expect(point('task.duration', 'failure').exemplars).toEqual([]);
    expect(point('task.wait.duration').exemplars).toEqual([]);
  });
});
