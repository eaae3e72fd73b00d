/*
 * An attempt that never ended, recorded by the attempt that found it: its span beside the new
 * one, with outcome lost, the way it was found, its times as the broker gave them, and its count
 * in the duration histogram's failure series and in the retries.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { sendTask } from '@tasklens/core';
import { startTaskAttempt } from '@tasklens/core/adapter';
import type { LostAttempt, TaskCarrier } from '@tasklens/core';
import { startInMemoryTelemetry } from '@tasklens/test-utils';

const telemetry = startInMemoryTelemetry();
afterAll(() => telemetry.shutdown());
beforeEach(() => telemetry.reset());

const STARTED = Date.UTC(2026, 11, 8, 1, 0, 0);
const lost: LostAttempt = {
  attempt: 1,
  cause: 'stalled',
  startedAt: STARTED,
  endedAt: STARTED + 2_500,
  endExact: true,
};

function producerCarrier(): Promise<TaskCarrier> {
  return sendTask({ name: 'resize', queue: 'images', system: 'test' }, ({ carrier }) => carrier);
}

describe('a lost attempt', () => {
  it('is a CONSUMER span beside the new attempt, ERROR, outcome lost, with its times', async () => {
    const carrier = await producerCarrier();
    const attempt = startTaskAttempt({
      name: 'resize',
      queue: 'images',
      system: 'test',
      id: 'job-7',
      attempt: 2,
      carrier,
      previousAttemptLost: lost,
    });
    attempt.succeed();
    const spans = telemetry.spans();
    const producer = spans.find((span) => span.kind === SpanKind.PRODUCER);
    const lostSpan = spans.find((span) => span.attributes['task.outcome'] === 'lost');
    const next = spans.find((span) => span.attributes['task.outcome'] === 'success');
    expect(producer).toBeDefined();
    expect(lostSpan).toBeDefined();
    expect(next).toBeDefined();
    if (lostSpan === undefined || next === undefined || producer === undefined) return;
    expect(lostSpan.name).toBe('process images');
    expect(lostSpan.kind).toBe(SpanKind.CONSUMER);
    expect(lostSpan.spanContext().traceId).toBe(producer.spanContext().traceId);
    expect(lostSpan.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    expect(next.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    expect(lostSpan.status.code).toBe(SpanStatusCode.ERROR);
    expect(lostSpan.status.message).toMatch(/^attempt 1 was lost: .*stalled/);
    expect(lostSpan.attributes).toMatchObject({
      'task.name': 'resize',
      'task.attempt': 1,
      'task.id': 'job-7',
      'error.type': 'stalled',
      'task.retrying': true,
      'task.lost.start_estimated': true,
      'messaging.system': 'test',
    });
    expect(lostSpan.attributes['task.lost.end_estimated']).toBeUndefined();
    expect(lostSpan.attributes['task.wait.duration']).toBeUndefined();
    expect(next.attributes['task.attempt']).toBe(2);
    const toMs = ([seconds, nanos]: [number, number]) => seconds * 1000 + nanos / 1e6;
    expect(toMs(lostSpan.startTime)).toBe(STARTED);
    expect(toMs(lostSpan.endTime)).toBe(STARTED + 2_500);
  });

  it('counts in the duration histogram as outcome lost, and in the retries', async () => {
    startTaskAttempt({
      name: 'thumbnail',
      queue: 'images',
      system: 'test',
      attempt: 3,
      previousAttemptLost: { ...lost, attempt: 2, cause: 'redelivered' },
    }).succeed();
    const thumbnail = (point: { attributes: Record<string, unknown> }) =>
      point.attributes['task.name'] === 'thumbnail';
    const durations = await telemetry.metricPoints('task.duration');
    const lostPoint = durations
      .filter(thumbnail)
      .find((point) => point.attributes['task.outcome'] === 'lost');
    expect(lostPoint?.attributes).toMatchObject({
      'task.name': 'thumbnail',
      'task.queue': 'images',
      'error.type': 'redelivered',
    });
    expect(lostPoint).toMatchObject({ count: 1, sum: 2.5 });
    const retries = await telemetry.metricPoints('task.retries');
    expect(retries.filter(thumbnail).map((point) => point.value)).toEqual([1]);
    const active = await telemetry.metricPoints('task.active');
    expect(active.filter(thumbnail).map((point) => point.value)).toEqual([0]);
  });

  it('ends no earlier than it started, whatever the clocks gave', () => {
    startTaskAttempt({
      name: 'crop',
      attempt: 2,
      previousAttemptLost: { ...lost, endedAt: STARTED - 1_000, endExact: false },
    }).succeed();
    const lostSpan = telemetry.spans().find((span) => span.attributes['task.outcome'] === 'lost');
    expect(lostSpan?.attributes['task.lost.end_estimated']).toBe(true);
    expect(lostSpan?.duration).toEqual([0, 0]);
  });

  it('without times, starts when the task was enqueued and ends when the loss was found', async () => {
    const carrier = await sendTask({ name: 'scale', queue: 'images' }, (send) => send.carrier);
    const enqueuedAt = Number(carrier['tasklens-enqueued-at']);
    const before = Date.now();
    startTaskAttempt({
      name: 'scale',
      queue: 'images',
      system: 'test',
      attempt: 2,
      carrier,
      previousAttemptLost: { attempt: 1, cause: 'ack_wait_expired' },
    }).succeed();
    const lostSpan = telemetry.spans().find((span) => span.attributes['task.outcome'] === 'lost');
    expect(lostSpan?.attributes).toMatchObject({
      'error.type': 'ack_wait_expired',
      'task.lost.start_estimated': true,
      'task.lost.end_estimated': true,
    });
    const toMs = ([seconds, nanos]: [number, number]) => seconds * 1000 + nanos / 1e6;
    if (lostSpan === undefined) return;
    expect(toMs(lostSpan.startTime)).toBe(enqueuedAt);
    expect(toMs(lostSpan.endTime)).toBeGreaterThanOrEqual(before);
  });
});
