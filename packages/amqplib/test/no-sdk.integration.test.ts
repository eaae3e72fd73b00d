/*
 * With no OpenTelemetry SDK registered (this file registers none), an instrumented channel only
 * passes through: the user's handler gets the message and its result or error comes back
 * unchanged, and every settlement reaches the broker.
 */
import type { Channel, ConsumeMessage } from 'amqplib';
import { instrumentChannel } from '@tasklens/amqplib';
import { isTelemetryActive } from '@tasklens/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ChannelModel } from 'amqplib';
import { connectRabbitMq, uniqueName } from './support/rabbitmq.js';

let connection: ChannelModel;
beforeAll(async () => {
  connection = await connectRabbitMq();
});
afterAll(() => connection.close());

it('runs no instrumentation with no SDK registered', () => {
  expect(isTelemetryActive()).toBe(false);
});

it('returns the handler’s value, promise and synchronous error unchanged', async () => {
  const handlers: ((message: ConsumeMessage | null) => unknown)[] = [];
  const stand = {
    on: () => stand,
    consume: (_queue: string, handler: (message: ConsumeMessage | null) => unknown) => {
      handlers.push(handler);
      return Promise.resolve({ consumerTag: 'c' });
    },
  };
  const channel = instrumentChannel(stand as unknown as Channel);
  const message = {
    content: Buffer.from('{}'),
    fields: { deliveryTag: 1, redelivered: false, exchange: '', routingKey: 'rk' },
    properties: { headers: {} },
  } as unknown as ConsumeMessage;
  const promise = Promise.resolve('done');
  const failure = new Error('handler failed');
  const received: unknown[] = [];
  await channel.consume('q', (delivered) => {
    received.push(delivered);
    return 42;
  });
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the promise is what is checked
  await channel.consume('q', () => promise);
  await channel.consume('q', () => {
    throw failure;
  });

  expect(handlers[0]?.(message)).toBe(42);
  expect(received[0]).toBe(message);
  expect(handlers[1]?.(message)).toBe(promise);
  expect(() => handlers[2]?.(message)).toThrow(failure);
});

it('acks, nacks and rejects through the broker', async () => {
  const queue = uniqueName('nosdk');
  const channel = instrumentChannel(await connection.createChannel());
  try {
    await channel.assertQueue(queue, { durable: false });
    for (const body of ['ack', 'nack', 'reject', 'requeue'])
      channel.sendToQueue(queue, Buffer.from(body));
    const seen: string[] = [];
    let requeuedOnce = false;
    await new Promise<void>((resolve) => {
      void channel.consume(queue, (message) => {
        if (message === null) return;
        const body = message.content.toString();
        seen.push(body);
        if (body === 'ack') channel.ack(message);
        else if (body === 'nack') channel.nack(message, false, false);
        else if (body === 'reject') channel.reject(message, false);
        else if (!requeuedOnce) {
          requeuedOnce = true;
          channel.nack(message);
        } else {
          channel.ack(message);
          resolve();
        }
      });
    });

    expect(seen).toEqual(['ack', 'nack', 'reject', 'requeue', 'requeue']);
  } finally {
    // Closing returns whatever is left unacked to the queue: nothing must be.
    await channel.close();
  }
  const checker = await connection.createChannel();
  try {
    expect((await checker.checkQueue(queue)).messageCount).toBe(0);
  } finally {
    await checker.deleteQueue(queue);
    await checker.close();
  }
});
