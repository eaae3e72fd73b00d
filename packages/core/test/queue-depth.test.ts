/*
 * The queue depth poller: settings from options and variables, gauges with only queue and
 * system, zeros reported, failed polls reported as no points, nothing polled without an SDK.
 */
import { context, diag } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { afterEach, describe, expect, it } from 'vitest';
import { TASK_METRICS } from '@tasklens/core';
import {
  DEFAULT_QUEUE_DEPTH_INTERVAL_MS,
  queueDepthPollCounts,
  queueDepthSettings,
  unwatchQueueDepth,
  watchQueueDepth,
} from '@tasklens/core/adapter';
import type { QueueDepth } from '@tasklens/core/adapter';
import { captureDiagWarnings, eventually, startInMemoryTelemetry } from '@tasklens/test-utils';

let queueNumber = 0;
const uniqueQueue = (what: string) => `${what}-${process.pid}-${++queueNumber}`;

function pollsOf(queue: string): number {
  return queueDepthPollCounts().find((count) => count.queue === queue)?.polls ?? 0;
}

afterEach(() => {
  unwatchQueueDepth();
  diag.disable();
});

describe('queueDepthSettings', () => {
  it('defaults to on, every 15 s, or the metric export interval when set', () => {
    expect(queueDepthSettings({}, {})).toEqual({
      enabled: true,
      intervalMs: DEFAULT_QUEUE_DEPTH_INTERVAL_MS,
    });
    expect(queueDepthSettings({}, { OTEL_METRIC_EXPORT_INTERVAL: '30000' }).intervalMs).toBe(
      30_000,
    );
  });

  it('takes options over variables', () => {
    const env = { TASKLENS_QUEUE_DEPTH: 'off', TASKLENS_QUEUE_DEPTH_INTERVAL_MS: '5000' };
    expect(queueDepthSettings({}, env)).toEqual({ enabled: false, intervalMs: 5000 });
    expect(queueDepthSettings({ queueDepth: true, queueDepthIntervalMs: 250 }, env)).toEqual({
      enabled: true,
      intervalMs: 250,
    });
    expect(queueDepthSettings({}, { TASKLENS_QUEUE_DEPTH: 'ON' }).enabled).toBe(true);
  });

  it('warns once about a bad value and uses the default', () => {
    const warnings = captureDiagWarnings();
    const env = { TASKLENS_QUEUE_DEPTH: 'sometimes', TASKLENS_QUEUE_DEPTH_INTERVAL_MS: '15s' };
    expect(queueDepthSettings({}, env)).toEqual({ enabled: true, intervalMs: 15_000 });
    expect(queueDepthSettings({}, env)).toEqual({ enabled: true, intervalMs: 15_000 });
    expect(queueDepthSettings({ queueDepthIntervalMs: 5 }, {}).intervalMs).toBe(15_000);
    expect(queueDepthSettings({}, { TASKLENS_QUEUE_DEPTH_INTERVAL_MS: '-1' }).intervalMs).toBe(
      15_000,
    );
    expect(warnings).toEqual([
      'tasklens: TASKLENS_QUEUE_DEPTH is "sometimes", not on or off; using on for queue depth',
      'tasklens: TASKLENS_QUEUE_DEPTH_INTERVAL_MS is "15s", not a whole number of milliseconds ' +
        '>= 100; using 15000 ms for queue depth',
      'tasklens: the queueDepthIntervalMs option is 5, not a whole number of milliseconds ' +
        '>= 100; using 15000 ms for queue depth',
      'tasklens: TASKLENS_QUEUE_DEPTH_INTERVAL_MS is "-1", not a whole number of milliseconds ' +
        '>= 100; using 15000 ms for queue depth',
    ]);
  });
});

describe('watchQueueDepth with no SDK registered', () => {
  it('never opens a reader nor polls', async () => {
    const queue = uniqueQueue('no-sdk');
    let opened = 0;
    watchQueueDepth(
      'test',
      queue,
      () => {
        opened += 1;
        return { read: () => Promise.resolve({ waiting: 1 }) };
      },
      { queueDepthIntervalMs: 100 },
    );
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(opened).toBe(0);
    expect(pollsOf(queue)).toBe(0);
  });
});

describe('watchQueueDepth with an SDK', () => {
  it('reports every field the broker gives, zeros included, labelled by queue and system', async () => {
    const telemetry = startInMemoryTelemetry();
    try {
      const queue = uniqueQueue('fields');
      let reads = 0;
      let untraced = 0;
      const depth: QueueDepth = {
        waiting: 0,
        active: 2,
        delayed: 3,
        failed: 4,
        oldestWaitingAgeSeconds: 1.5,
        consumers: 0,
      };
      watchQueueDepth(
        'test',
        queue,
        () => ({
          read: () => {
            reads += 1;
            if (isTracingSuppressed(context.active())) untraced += 1;
            return Promise.resolve(depth);
          },
        }),
        { queueDepthIntervalMs: 100 },
      );
      // The same queue registered again is not polled twice.
      watchQueueDepth('test', queue, () => {
        throw new Error('not opened');
      });
      await eventually('a poll', () => Promise.resolve(pollsOf(queue) >= 3 ? true : undefined));
      expect(reads).toBe(pollsOf(queue));
      // The polls' broker commands make no spans.
      expect(untraced).toBe(reads);
      const labels = { 'task.queue': queue, 'messaging.system': 'test' };
      const values: Record<string, number[]> = {};
      for (const [key, metric] of Object.entries(TASK_METRICS)) {
        if (!key.startsWith('queue')) continue;
        const points = await telemetry.metricPoints(metric.name);
        expect(points.map((point) => point.attributes)).toEqual([labels]);
        values[metric.name] = points.map((point) => point.value);
      }
      expect(values).toEqual({
        'task.queue.waiting': [0],
        'task.queue.active': [2],
        'task.queue.delayed': [3],
        'task.queue.failed': [4],
        'task.queue.oldest_waiting_age': [1.5],
        'task.queue.consumers': [0],
      });
    } finally {
      await telemetry.shutdown();
    }
  });

  it('observes nothing for a queue whose last poll failed, warns once, and counts the failures', async () => {
    let telemetry = startInMemoryTelemetry();
    const warnings = captureDiagWarnings();
    const queue = uniqueQueue('failing');
    const failuresOf = () =>
      queueDepthPollCounts().find((count) => count.queue === queue)?.failures ?? 0;
    try {
      let fail = false;
      watchQueueDepth(
        'test',
        queue,
        () => ({
          read: () =>
            fail ? Promise.reject(new Error('broker down')) : Promise.resolve({ waiting: 7 }),
        }),
        { queueDepthIntervalMs: 100 },
      );
      await eventually('a good poll', async () =>
        (await telemetry.metricPoints('task.queue.waiting')).some(
          (point) => point.attributes['task.queue'] === queue && point.value === 7,
        )
          ? true
          : undefined,
      );
      fail = true;
      await eventually('a failed poll', () => Promise.resolve(failuresOf() >= 2 || undefined));
      // A cumulative SDK reader keeps the last point of a series it saw (OTel JS 2.x): a fresh
      // provider shows what the gauges observe now.
      await telemetry.shutdown();
      telemetry = startInMemoryTelemetry();
      const failuresBefore = failuresOf();
      await eventually('a failed poll with the new provider', () =>
        Promise.resolve(failuresOf() > failuresBefore || undefined),
      );
      const points = await telemetry.metricPoints('task.queue.waiting');
      expect(points.filter((point) => point.attributes['task.queue'] === queue)).toEqual([]);
      expect(
        warnings.filter((warning) => warning.startsWith('tasklens: could not read the depth')),
      ).toHaveLength(1);
    } finally {
      await telemetry.shutdown();
    }
  });

  it('forgets a queue whose reader is closed, without a warning', async () => {
    const telemetry = startInMemoryTelemetry();
    const warnings = captureDiagWarnings();
    try {
      const queue = uniqueQueue('closed');
      let closed = false;
      let closedCalls = 0;
      watchQueueDepth(
        'test',
        queue,
        () => ({
          read: () => Promise.resolve({ waiting: 1 }),
          isClosed: () => closed,
          close: () => {
            closedCalls += 1;
          },
        }),
        { queueDepthIntervalMs: 100 },
      );
      await eventually('a poll', () => Promise.resolve(pollsOf(queue) >= 1 ? true : undefined));
      closed = true;
      await eventually('forgotten', () =>
        Promise.resolve(
          queueDepthPollCounts().some((count) => count.queue === queue) ? undefined : true,
        ),
      );
      expect(closedCalls).toBe(1);
      expect(warnings).toEqual([]);
    } finally {
      await telemetry.shutdown();
    }
  });

  it('with queueDepth off registers nothing', () => {
    const queue = uniqueQueue('off');
    watchQueueDepth('test', queue, () => ({ read: () => Promise.resolve({}) }), {
      queueDepth: false,
    });
    expect(queueDepthPollCounts().some((count) => count.queue === queue)).toBe(false);
  });
});
