import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { sendTask } from '@tasklens/core';
import { startTaskAttempt } from '@tasklens/core/adapter';
import { startInMemoryTelemetry } from '@tasklens/test-utils';

const telemetry = startInMemoryTelemetry();
afterAll(() => telemetry.shutdown());
beforeEach(() => telemetry.reset());

describe('destination', () => {
  it('puts the destination on the producer span and keeps the queue in the span name', async () => {
    await sendTask(
      { name: 'dest-send', queue: 'ORDERS', destination: 'orders.123', system: 'nats' },
      () => undefined,
    );
    const [span] = telemetry.spans();
    expect(span?.name).toBe('send ORDERS');
    expect(span?.attributes['messaging.destination.name']).toBe('orders.123');
  });

  it('puts the destination on the process span and keeps it off the metric labels', async () => {
    startTaskAttempt({
      name: 'dest-process',
      queue: 'ORDERS',
      destination: 'orders.456',
      system: 'nats',
    }).succeed();
    const [span] = telemetry.spans();
    expect(span?.name).toBe('process ORDERS');
    expect(span?.attributes['messaging.destination.name']).toBe('orders.456');
    const points = await telemetry.metricPoints('task.duration');
    expect(points.filter((point) => point.attributes['task.name'] === 'dest-process')).toEqual([
      expect.objectContaining({
        attributes: {
          'task.name': 'dest-process',
          'task.queue': 'ORDERS',
          'messaging.system': 'nats',
          'task.outcome': 'success',
        },
        count: 1,
      }),
    ]);
  });

  it('defaults the destination to the queue', () => {
    startTaskAttempt({ name: 'dest-default', queue: 'images', system: 'rabbitmq' }).succeed();
    expect(telemetry.spans()[0]?.attributes['messaging.destination.name']).toBe('images');
  });
});
