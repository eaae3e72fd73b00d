import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { TASK_DURATION_BUCKETS } from '@tasklens/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startChild } from './support/job-process.js';
import { closedPort, startOtlpReceiver } from '@tasklens/test-utils';
import type { OtlpReceiver, ReceivedMetricPoint } from '@tasklens/test-utils';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A collector that accepts connections and never answers. */
async function startSilentCollector(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function lastTaskDurationPoint(receiver: OtlpReceiver): ReceivedMetricPoint | undefined {
  return receiver.metricPoints('task.duration').at(-1);
}

let receiver: OtlpReceiver;

beforeEach(async () => {
  receiver = await startOtlpReceiver();
});

afterEach(async () => {
  await receiver.close();
});

function receiverEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_SERVICE_NAME: 'child-job',
    ...extra,
  };
}

describe('a short-lived process with startTelemetry()', () => {
  it('delivers all 100 task spans and the task metrics after shutdown()', async () => {
    const result = await startChild(receiverEnv()).exited;

    expect(result).toMatchObject({ code: 0, signal: null, stderr: '' });
    expect(result.doneSpanIds).toHaveLength(100);
    const spans = receiver.spans();
    expect(spans.map((span) => span.spanId).sort()).toEqual([...result.doneSpanIds].sort());
    expect(new Set(spans.map((span) => span.name))).toEqual(new Set(['child-task']));
    expect(spans[0]?.resource).toMatchObject({
      'service.name': 'child-job',
      'service.instance.id': expect.stringMatching(UUID) as unknown,
    });

    const points = receiver.metricPoints('task.duration');
    expect(points).toHaveLength(1);
    expect(points[0]).toMatchObject({
      type: 'histogram',
      unit: 's',
      temporality: 'cumulative',
      count: 100,
      attributes: { 'task.name': 'child-task', 'task.outcome': 'success' },
      explicitBounds: [...TASK_DURATION_BUCKETS],
    });
  });

  it('on SIGTERM delivers every task finished before the signal and dies by the signal', async () => {
    const child = startChild(receiverEnv({ TASK_COUNT: '1000000', TASK_DELAY_MS: '2' }));
    const finishedBeforeSignal = await child.tasksDone(20);
    child.kill('SIGTERM');
    const result = await child.exited;

    expect(result).toMatchObject({ code: null, signal: 'SIGTERM', stderr: '' });
    const received = new Set(receiver.spans().map((span) => span.spanId));
    expect(finishedBeforeSignal.filter((spanId) => !received.has(spanId))).toEqual([]);
    expect(lastTaskDurationPoint(receiver)?.count).toBeGreaterThanOrEqual(
      finishedBeforeSignal.length,
    );
  });

  it('on SIGTERM flushes and leaves the exit to the application when it listens too', async () => {
    const child = startChild(
      receiverEnv({ TASK_COUNT: '1000000', TASK_DELAY_MS: '2', STOP_ON_SIGTERM: '1' }),
    );
    const finishedBeforeSignal = await child.tasksDone(20);
    child.kill('SIGTERM');
    const result = await child.exited;

    expect(result).toMatchObject({ code: 0, signal: null, stderr: '' });
    expect(result.stdout).toContain('stopping\n');
    const received = new Set(receiver.spans().map((span) => span.spanId));
    expect(finishedBeforeSignal.filter((spanId) => !received.has(spanId))).toEqual([]);
  });

  it('exits with its normal exit code when the collector never answers', async () => {
    const collector = await startSilentCollector();
    try {
      const result = await startChild({
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
        // Longer than the test timeout: only the cap at the flush timeout ends the export.
        OTEL_EXPORTER_OTLP_TIMEOUT: '600000',
        TASKLENS_FLUSH_TIMEOUT_MS: '500',
        TASK_COUNT: '10',
      }).exited;

      expect(result).toMatchObject({ code: 0, signal: null });
      // Export timeouts may be reported too, racing the flush timeout; nothing else may be.
      expect(result.stderr).toContain(
        'tasklens: telemetry was not flushed within 500 ms (is the collector reachable?); giving up\n',
      );
      expect(
        result.stderr
          .trim()
          .split('\n')
          .filter((line) => !line.startsWith('tasklens: ')),
      ).toEqual([]);
    } finally {
      await collector.close();
    }
  });

  it('exits with its normal exit code when no collector listens', async () => {
    const port = await closedPort();
    const result = await startChild({
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      TASKLENS_FLUSH_TIMEOUT_MS: '1000',
      TASK_COUNT: '10',
    }).exited;

    expect(result).toMatchObject({ code: 0, signal: null });
    expect(result.doneSpanIds).toHaveLength(10);
    // One line for an unreachable collector, whichever signal failed first.
    expect(result.stderr).toMatch(
      new RegExp(
        `^tasklens: could not export (spans|metrics) to http://127\\.0\\.0\\.1:${port}/v1/(traces|metrics): [^\\n]*ECONNREFUSED[^\\n]*\\n(tasklens: \\d+ telemetry exports failed in all\\n)?$`,
      ),
    );
  });
});

describe('node --import @tasklens/node/register', () => {
  const REGISTER = ['--import', '@tasklens/node/register'];

  it('delivers all 100 task spans and the task metrics at exit', async () => {
    const result = await startChild(receiverEnv({ FIXTURE_MODE: 'register' }), REGISTER).exited;

    expect(result).toMatchObject({ code: 0, signal: null, stderr: '' });
    expect(result.stdout.startsWith('started register\n')).toBe(true);
    expect(
      receiver
        .spans()
        .map((span) => span.spanId)
        .sort(),
    ).toEqual([...result.doneSpanIds].sort());
    expect(result.doneSpanIds).toHaveLength(100);
    expect(lastTaskDurationPoint(receiver)).toMatchObject({
      count: 100,
      temporality: 'cumulative',
      attributes: { 'task.name': 'child-task', 'task.outcome': 'success' },
    });
  });

  it('on SIGTERM delivers the finished tasks and dies by the signal', async () => {
    const child = startChild(
      receiverEnv({ FIXTURE_MODE: 'register', TASK_COUNT: '1000000', TASK_DELAY_MS: '2' }),
      REGISTER,
    );
    const finishedBeforeSignal = await child.tasksDone(20);
    child.kill('SIGTERM');
    const result = await child.exited;

    expect(result).toMatchObject({ code: null, signal: 'SIGTERM', stderr: '' });
    const received = new Set(receiver.spans().map((span) => span.spanId));
    expect(finishedBeforeSignal.filter((spanId) => !received.has(spanId))).toEqual([]);
  });

  it('keeps process.exitCode when no collector listens', async () => {
    const port = await closedPort();
    const result = await startChild(
      {
        FIXTURE_MODE: 'register',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        TASKLENS_FLUSH_TIMEOUT_MS: '1000',
        TASK_COUNT: '10',
        EXIT_CODE: '3',
      },
      REGISTER,
    ).exited;

    expect(result).toMatchObject({ code: 3, signal: null });
  });

  it('gives up on a collector that never answers and exits with process.exitCode', async () => {
    const collector = await startSilentCollector();
    try {
      const result = await startChild(
        {
          FIXTURE_MODE: 'register',
          OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
          OTEL_EXPORTER_OTLP_TIMEOUT: '600000',
          TASKLENS_FLUSH_TIMEOUT_MS: '500',
          TASK_COUNT: '10',
          EXIT_CODE: '3',
        },
        REGISTER,
      ).exited;

      expect(result).toMatchObject({ code: 3, signal: null });
      // Export timeouts may be reported too, racing the flush timeout; nothing else may be.
      expect(result.stderr).toContain(
        'tasklens: telemetry was not flushed within 500 ms (is the collector reachable?); giving up\n',
      );
      expect(
        result.stderr
          .trim()
          .split('\n')
          .filter((line) => !line.startsWith('tasklens: ')),
      ).toEqual([]);
    } finally {
      await collector.close();
    }
  });
});
