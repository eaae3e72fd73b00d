import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { runTask, TaskTimeoutError } from '@tasklens/core';
import { startInMemoryTelemetry } from '@tasklens/test-utils';

const telemetry = startInMemoryTelemetry();
afterAll(() => telemetry.shutdown());
beforeEach(() => telemetry.reset());

class MailboxFullError extends Error {}
class NotFoundError extends Error {}

describe('runTask', () => {
  it('records a successful attempt and returns the result unchanged', async () => {
    const result = { id: 42 };
    const returned = await runTask({ name: 'ok-task', id: 'job-1' }, ({ attempt, span }) => {
      expect(attempt).toBe(1);
      expect(span.isRecording()).toBe(true);
      return Promise.resolve(result);
    });
    expect(returned).toBe(result);

    const [span] = telemetry.spans();
    expect(telemetry.spans()).toHaveLength(1);
    expect(span.name).toBe('ok-task');
    expect(span.kind).toBe(SpanKind.INTERNAL);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes).toEqual({
      'task.name': 'ok-task',
      'task.attempt': 1,
      'task.id': 'job-1',
      'task.outcome': 'success',
    });
    expect(span.events).toEqual([]);

    const durations = await telemetry.metricPoints('task.duration');
    expect(durations).toMatchObject([
      { attributes: { 'task.name': 'ok-task', 'task.outcome': 'success' }, count: 1 },
    ]);
    expect(durations[0].buckets?.boundaries).toEqual([
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600,
    ]);
    const active = await telemetry.metricPoints('task.active');
    expect(active).toEqual([{ attributes: { 'task.name': 'ok-task' }, value: 0 }]);
    const lastSuccess = await telemetry.metricPoints('task.last_success');
    const okPoint = lastSuccess.find((point) => point.attributes['task.name'] === 'ok-task');
    expect(okPoint?.value).toBeGreaterThan(1_700_000_000);
    expect(okPoint?.value).toBeLessThanOrEqual(Date.now() / 1000);
  });

  it('records a failure with ERROR status, exception event and error.type, rethrowing the original error', async () => {
    const error = new MailboxFullError('mailbox full');
    await expect(
      runTask({ name: 'failing-task', queue: 'mail' }, () => Promise.reject(error)),
    ).rejects.toBe(error);

    const [span] = telemetry.spans();
    expect(span.name).toBe('process mail');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'mailbox full' });
    expect(span.attributes).toEqual({
      'task.name': 'failing-task',
      'task.attempt': 1,
      'messaging.destination.name': 'mail',
      'task.outcome': 'failure',
      'error.type': 'MailboxFullError',
    });
    expect(span.events.map((event) => event.name)).toEqual(['exception']);
    expect(span.events[0].attributes).toMatchObject({
      'exception.type': 'Error',
      'exception.message': 'mailbox full',
    });

    expect(await telemetry.metricPoints('task.duration')).toContainEqual(
      expect.objectContaining({
        attributes: {
          'task.name': 'failing-task',
          'task.queue': 'mail',
          'task.outcome': 'failure',
          'error.type': 'MailboxFullError',
        },
        count: 1,
      }),
    );
    const lastSuccess = await telemetry.metricPoints('task.last_success');
    expect(lastSuccess.map((point) => point.attributes['task.name'])).not.toContain('failing-task');
  });

  it('names thrown non-errors _OTHER and still rethrows them', async () => {
    await expect(
      runTask({ name: 'throws-string' }, () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- user code can throw anything
        throw 'plain string';
      }),
    ).rejects.toBe('plain string');
    const [span] = telemetry.spans();
    expect(span.attributes['error.type']).toBe('_OTHER');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'plain string' });
  });

  it('does not count expected errors as failures (class list and predicate)', async () => {
    const byClass = new NotFoundError('gone');
    await expect(
      runTask({ name: 'expected-task', expectedErrors: [NotFoundError] }, () => {
        throw byClass;
      }),
    ).rejects.toBe(byClass);
    await expect(
      runTask(
        { name: 'expected-task', expectedErrors: (error) => (error as Error).message === 'skip' },
        () => Promise.reject(new Error('skip')),
      ),
    ).rejects.toThrow('skip');

    for (const span of telemetry.spans()) {
      expect(span.status.code).toBe(SpanStatusCode.UNSET);
      expect(span.attributes['task.outcome']).toBe('success');
      expect(span.attributes['task.expected_error']).toBe(true);
      expect(span.attributes['error.type']).toBeUndefined();
      expect(span.events.map((event) => event.name)).toEqual(['exception']);
    }
    expect(await telemetry.metricPoints('task.duration')).toContainEqual(
      expect.objectContaining({
        attributes: { 'task.name': 'expected-task', 'task.outcome': 'success' },
        count: 2,
      }),
    );
  });

  it('retries with one span per attempt, marking retried failures and counting retries', async () => {
    const seen: number[] = [];
    const result = await runTask(
      { name: 'flaky-task', attempts: 3, backoff: (failed) => failed * 5 },
      ({ attempt }) => {
        seen.push(attempt);
        if (attempt < 3) throw new MailboxFullError(`attempt ${attempt}`);
        return 'done';
      },
    );
    expect(result).toBe('done');
    expect(seen).toEqual([1, 2, 3]);

    const spans = telemetry.spans();
    expect(spans.map((span) => span.attributes['task.attempt'])).toEqual([1, 2, 3]);
    expect(spans.map((span) => span.attributes['task.outcome'])).toEqual([
      'failure',
      'failure',
      'success',
    ]);
    expect(spans.map((span) => span.attributes['task.retrying'])).toEqual([true, true, undefined]);
    expect(spans.map((span) => span.status.code)).toEqual([
      SpanStatusCode.ERROR,
      SpanStatusCode.ERROR,
      SpanStatusCode.UNSET,
    ]);
    expect(await telemetry.metricPoints('task.retries')).toContainEqual({
      attributes: { 'task.name': 'flaky-task' },
      value: 2,
    });
  });

  it('gives up after the last attempt with the final failure not marked as retrying', async () => {
    await expect(
      runTask({ name: 'doomed-task', attempts: 2 }, () => Promise.reject(new Error('nope'))),
    ).rejects.toThrow('nope');
    const spans = telemetry.spans();
    expect(spans.map((span) => span.attributes['task.retrying'])).toEqual([true, undefined]);
    expect(await telemetry.metricPoints('task.retries')).toContainEqual({
      attributes: { 'task.name': 'doomed-task' },
      value: 1,
    });
  });

  it('ends with outcome cancelled and the signal reason when the caller aborts', async () => {
    const controller = new AbortController();
    const reason = new Error('shutting down');
    let sawAbort = false;
    const running = runTask(
      { name: 'cancel-task', signal: controller.signal, attempts: 3 },
      (task) => {
        return new Promise((_resolve, reject) => {
          task.signal.addEventListener('abort', () => {
            sawAbort = true;
            reject(task.signal.reason as Error);
          });
          setTimeout(() => controller.abort(reason), 5);
        });
      },
    );
    await expect(running).rejects.toBe(reason);
    expect(sawAbort).toBe(true);

    const spans = telemetry.spans();
    expect(spans).toHaveLength(1);
    expect(spans[0].attributes['task.outcome']).toBe('cancelled');
    expect(spans[0].status.code).toBe(SpanStatusCode.UNSET);
    expect(await telemetry.metricPoints('task.duration')).toContainEqual(
      expect.objectContaining({
        attributes: { 'task.name': 'cancel-task', 'task.outcome': 'cancelled' },
        count: 1,
      }),
    );
  });

  it('ends with outcome timeout, aborts the signal and rejects with TaskTimeoutError', async () => {
    let signalReason: unknown;
    const running = runTask({ name: 'slow-task', timeoutMs: 20 }, (task) => {
      return new Promise((resolve) => {
        task.signal.addEventListener('abort', () => {
          signalReason = task.signal.reason;
        });
        setTimeout(resolve, 5_000).unref();
      });
    });
    await expect(running).rejects.toBeInstanceOf(TaskTimeoutError);
    expect(signalReason).toBeInstanceOf(TaskTimeoutError);

    const [span] = telemetry.spans();
    expect(span.attributes['task.outcome']).toBe('timeout');
    expect(span.attributes['error.type']).toBe('TaskTimeoutError');
    expect(span.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'task attempt timed out after 20 ms',
    });
    expect(await telemetry.metricPoints('task.duration')).toContainEqual(
      expect.objectContaining({
        attributes: {
          'task.name': 'slow-task',
          'task.outcome': 'timeout',
          'error.type': 'TaskTimeoutError',
        },
        count: 1,
      }),
    );
  });

  it('runs the function in the attempt span context so its own spans are children', async () => {
    await runTask({ name: 'parent-task' }, async () => {
      trace.getTracer('test').startActiveSpan('inner', (inner) => inner.end());
      await Promise.resolve();
    });
    const [inner, task] = telemetry.spans();
    expect(inner.name).toBe('inner');
    expect(inner.parentSpanContext?.spanId).toBe(task.spanContext().spanId);
    expect(task.parentSpanContext).toBeUndefined();
  });

  it('isolates context between concurrent tasks', async () => {
    await Promise.all(
      Array.from({ length: 10 }, (_unused, index) =>
        runTask({ name: 'concurrent-task', id: String(index) }, async () => {
          await new Promise((resolve) => setTimeout(resolve, 10 - index));
          trace.getTracer('test').startActiveSpan(`inner-${index}`, (inner) => inner.end());
        }),
      ),
    );
    const spans = telemetry.spans();
    for (let index = 0; index < 10; index++) {
      const task = spans.find((span) => span.attributes['task.id'] === String(index));
      const inner = spans.find((span) => span.name === `inner-${index}`);
      expect(inner?.parentSpanContext?.spanId).toBe(task?.spanContext().spanId);
    }
  });

  it('never puts task or message ids into metric attributes', async () => {
    await runTask({ name: 'id-task', id: 'unique-123', queue: 'q', system: 'test' }, () => 1);
    const names = ['task.duration', 'task.active', 'task.last_success', 'task.wait.duration'];
    for (const name of names) {
      for (const point of await telemetry.metricPoints(name)) {
        expect(JSON.stringify(point.attributes)).not.toContain('unique-123');
      }
    }
  });
});
