/*
 * Queue depth gauges on the real RabbitMQ at 127.0.0.1:5672: ready messages and consumers from
 * one passive declare per queue per interval, on a channel of the poller's own; a missing queue
 * leaves the application's channel working; the on/off switch.
 */
import type { Channel, ChannelModel } from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { instrumentChannel } from '@tasklens/amqplib';
import { queueDepthPollCounts, unwatchQueueDepth } from '@tasklens/core/adapter';
import {
  eventually,
  queueDepthOf,
  queueDepthWhen,
  startInMemoryTelemetry,
} from '@tasklens/test-utils';
import type { QueueDepth } from '@tasklens/test-utils';
import { connectRabbitMq, uniqueName } from './support/rabbitmq.js';

const telemetry = startInMemoryTelemetry();
const INTERVAL = { queueDepthIntervalMs: 100 };
let connection: ChannelModel;
let admin: Channel;
const queues: string[] = [];

beforeAll(async () => {
  connection = await connectRabbitMq();
  admin = await connection.createChannel();
});
afterEach(() => unwatchQueueDepth());
afterAll(async () => {
  for (const queue of queues) await admin.deleteQueue(queue);
  await connection.close();
  await telemetry.shutdown();
});

async function declareQueue(prefix: string): Promise<string> {
  const queue = uniqueName(prefix);
  queues.push(queue);
  await admin.assertQueue(queue, { durable: false });
  return queue;
}

const depthOf = (queue: string) => queueDepthOf(telemetry, 'rabbitmq', queue);
const depthWhen = (queue: string, what: string, check: (depth: QueueDepth) => boolean) =>
  queueDepthWhen(telemetry, 'rabbitmq', queue, what, check);

function pollCountOf(queue: string) {
  return queueDepthPollCounts().filter((count) => count.queue === queue);
}

/** Counts the passive declares of `queue` made through any channel of amqplib's promise API. */
function countDeclares(channel: Channel, queue: string): { count: number; restore(): void } {
  const prototype = Object.getPrototypeOf(channel) as Channel;
  const owner = Object.hasOwn(prototype, 'checkQueue')
    ? prototype
    : (Object.getPrototypeOf(prototype) as Channel);
  type CheckQueue = (this: Channel, name: string) => ReturnType<Channel['checkQueue']>;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with its channel below
  const checkQueue: CheckQueue = owner.checkQueue;
  const counter = {
    count: 0,
    restore: () => {
      owner.checkQueue = checkQueue;
    },
  };
  owner.checkQueue = function (this: Channel, name: string) {
    if (name === queue) counter.count += 1;
    return checkQueue.call(this, name);
  };
  return counter;
}

describe('RabbitMQ queue depth', () => {
  it('reads the ready messages with no consumer, then 0 and one consumer once drained', async () => {
    const queue = await declareQueue('depth');
    const channel = instrumentChannel(await connection.createChannel(), INTERVAL);
    for (let index = 0; index < 5; index++) channel.sendToQueue(queue, Buffer.from(`${index}`));

    const backlog = await depthWhen(queue, '5 waiting', (depth) => depth.waiting === 5);
    expect(backlog).toEqual({ waiting: 5, consumers: 0 });

    await channel.consume(queue, (message) => {
      if (message !== null) channel.ack(message);
    });
    const drained = await depthWhen(
      queue,
      'drained',
      (depth) => depth.waiting === 0 && depth.consumers === 1,
    );
    expect(drained).toEqual({ waiting: 0, consumers: 1 });
    await channel.close();
  });

  it('costs one passive declare per queue per interval, however many channels send to it', async () => {
    const queue = await declareQueue('commands');
    const declares = countDeclares(admin, queue);
    try {
      const first = instrumentChannel(await connection.createChannel(), INTERVAL);
      const second = instrumentChannel(await connection.createConfirmChannel(), INTERVAL);
      first.sendToQueue(queue, Buffer.from('a'));
      second.sendToQueue(queue, Buffer.from('b'));
      await eventually('five polls', () =>
        Promise.resolve((pollCountOf(queue)[0]?.polls ?? 0) >= 5 || undefined),
      );
      expect(pollCountOf(queue)).toHaveLength(1);
      const [count] = pollCountOf(queue);
      unwatchQueueDepth('rabbitmq', queue);
      // A poll under way makes its declare: none after it.
      await eventually('a declare per poll', () =>
        Promise.resolve(declares.count === count?.polls || undefined),
      );
      console.info(`rabbitmq queue depth: ${count?.polls} polls, ${declares.count} declares`);
      await first.close();
      await second.close();
    } finally {
      declares.restore();
    }
  });

  it('a missing queue fails its polls only: the application’s channel and other queues go on', async () => {
    const missing = uniqueName('missing');
    const present = await declareQueue('present');
    const channel = instrumentChannel(await connection.createChannel(), INTERVAL);
    let closed = false;
    channel.on('close', () => {
      closed = true;
    });
    // The default exchange drops a message for a queue that does not exist.
    channel.sendToQueue(missing, Buffer.from('lost'));
    channel.sendToQueue(present, Buffer.from('kept'));
    await eventually('failed polls of the missing queue', () =>
      Promise.resolve((pollCountOf(missing)[0]?.failures ?? 0) >= 3 || undefined),
    );
    expect(await depthOf(missing)).toEqual({});

    // Each failed declare closed the poll channel; the present queue is still read.
    channel.sendToQueue(present, Buffer.from('kept too'));
    await depthWhen(present, '2 waiting', (depth) => depth.waiting === 2);
    expect(pollCountOf(present)[0]?.failures).toBe(0);

    const received: string[] = [];
    await channel.consume(present, (message) => {
      if (message === null) return;
      received.push(message.content.toString());
      channel.ack(message);
    });
    await eventually('both messages', () =>
      Promise.resolve(received.length === 2 ? received : undefined),
    );
    expect(received).toEqual(['kept', 'kept too']);
    expect(closed).toBe(false);
    await channel.close();
  });

  it('polls nothing with queueDepth off, or with TASKLENS_QUEUE_DEPTH=off', async () => {
    const queue = await declareQueue('off');
    const channel = instrumentChannel(await connection.createChannel(), { queueDepth: false });
    channel.sendToQueue(queue, Buffer.from('x'));
    process.env.TASKLENS_QUEUE_DEPTH = 'off';
    let byVariable: Channel;
    try {
      byVariable = instrumentChannel(await connection.createChannel(), INTERVAL);
    } finally {
      delete process.env.TASKLENS_QUEUE_DEPTH;
    }
    byVariable.sendToQueue(queue, Buffer.from('y'));
    await admin.checkQueue(queue);
    expect(pollCountOf(queue)).toEqual([]);
    await channel.close();
    await byVariable.close();
  });
});
