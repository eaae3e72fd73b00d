/*
 * Bucket boundaries chosen by the user reach the exported task histograms; the others keep
 * core's defaults.
 */
import { TASK_DURATION_BUCKETS } from '@tasklens/core';
import { startTaskAttempt } from '@tasklens/core/adapter';
import { startTelemetry } from '@tasklens/node';
import { describe, expect, it } from 'vitest';
import { useOtlpReceiver } from './support/otlp-receiver-telemetry.js';

const { receiver, options } = useOtlpReceiver();

describe('histogram buckets', () => {
  it('are those of TASKLENS_DURATION_BUCKETS and histogramBuckets, the defaults elsewhere', async () => {
    const telemetry = startTelemetry(
      options({
        env: { TASKLENS_DURATION_BUCKETS: '0.1,1,10' },
        histogramBuckets: { wait: [0.5, 30] },
      }),
    );
    const attempt = startTaskAttempt({
      name: 'resize',
      queue: 'images',
      system: 'test',
      waitStartedAt: Date.now() - 2_000,
    });
    attempt.succeed();
    await telemetry.shutdown();

    const [duration] = receiver().metricPoints('task.duration');
    expect(duration?.explicitBounds).toEqual([0.1, 1, 10]);
    expect(duration?.bucketCounts).toEqual([1, 0, 0, 0]);
    const [wait] = receiver().metricPoints('task.wait.duration');
    expect(wait?.explicitBounds).toEqual([0.5, 30]);
    expect(wait?.bucketCounts).toEqual([0, 1, 0]);
  });

  it('stay the defaults when none are set', async () => {
    const telemetry = startTelemetry(options());
    startTaskAttempt({ name: 'resize', queue: 'images', system: 'test' }).succeed();
    await telemetry.shutdown();
    expect(receiver().metricPoints('task.duration')[0]?.explicitBounds).toEqual([
      ...TASK_DURATION_BUCKETS,
    ]);
  });
});
