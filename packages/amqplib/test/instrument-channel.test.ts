/*
 * instrumentChannel on a stand-in channel shaped like amqplib's (sendToQueue calls this.publish,
 * as in amqplib), with the real SDK recording to memory: exact spans, errors and edge cases
 * that a broker cannot easily produce.
 */
import { EventEmitter } from 'node:events';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { Channel, ConfirmChannel, ConsumeMessage, Message, Options } from 'amqplib';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { instrumentChannel, MessageNackedError, taskConsumer } from '@tasklens/amqplib';
import { startInMemoryTelemetry } from '@tasklens/test-utils';

const telemetry = startInMemoryTelemetry();
afterAll(() => telemetry.shutdown());

type Confirm = (error: unknown, ok: unknown) => void;

class FakeChannel extends EventEmitter {
  readonly published: { exchange: string; routingKey: string; options?: Options.Publish }[] = [];
  readonly confirms: (Confirm | undefined)[] = [];
  readonly settled: unknown[][] = [];
  readonly consumers = new Map<string, (message: ConsumeMessage | null) => unknown>();
  throwOnPublish: Error | undefined;

  publish(
    exchange: string,
    routingKey: string,
    _content: Buffer,
    options?: Options.Publish,
    callback?: Confirm,
  ): boolean {
    if (this.throwOnPublish !== undefined) throw this.throwOnPublish;
    this.published.push({ exchange, routingKey, options });
    this.confirms.push(callback);
    return true;
  }
  sendToQueue(queue: string, content: Buffer, options?: Options.Publish, callback?: Confirm) {
    return this.publish('', queue, content, options, callback);
  }
  consume(queue: string, onMessage: (message: ConsumeMessage | null) => unknown) {
    this.consumers.set(queue, onMessage);
    return Promise.resolve({ consumerTag: queue });
  }
  assertQueue(queue: string) {
    return Promise.resolve({ queue, messageCount: 0, consumerCount: 0 });
  }
  ack(message: Message, allUpTo?: boolean) {
    this.settled.push(['ack', message.fields.deliveryTag, allUpTo]);
  }
  ackAll() {
    this.settled.push(['ackAll']);
  }
  nack(message: Message, allUpTo?: boolean, requeue?: boolean) {
    this.settled.push(['nack', message.fields.deliveryTag, allUpTo, requeue]);
  }
  nackAll(requeue?: boolean) {
    this.settled.push(['nackAll', requeue]);
  }
  reject(message: Message, requeue?: boolean) {
    this.settled.push(['reject', message.fields.deliveryTag, requeue]);
  }
  deliver(queue: string, message: ConsumeMessage | null): unknown {
    return this.consumers.get(queue)!(message);
  }
}

class FakeConfirmChannel extends FakeChannel {
  waitForConfirms() {
    return Promise.resolve();
  }
}

let queueCount = 0;
function uniqueQueue(): string {
  queueCount += 1;
  return `unit-queue-${queueCount}`;
}

function instrumented(
  options?: Parameters<typeof instrumentChannel>[1],
  fake = new FakeChannel(),
): { fake: FakeChannel; channel: Channel } {
  return { fake, channel: instrumentChannel(fake as unknown as Channel, options) };
}

function message(
  tag: number,
  {
    headers,
    redelivered = false,
    routingKey = 'rk',
  }: { headers?: unknown; redelivered?: boolean; routingKey?: string } = {},
): ConsumeMessage {
  return {
    content: Buffer.from('{}'),
    fields: { deliveryTag: tag, redelivered, exchange: '', routingKey, consumerTag: 'c' },
    properties: { headers },
  } as unknown as ConsumeMessage;
}

function spansNamed(name: string): ReadableSpan[] {
  return telemetry.spans().filter((span) => span.name === name);
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('producer side', () => {
  it('adds the carrier to a copy of the headers, keeping the caller’s headers and objects', async () => {
    const { fake, channel } = instrumented();
    const queue = uniqueQueue();
    const headers = { 'x-user': 'kept', traceparent: 'stale' };
    const options = { headers, messageId: 'id-7', persistent: true };
    expect(channel.sendToQueue(queue, Buffer.from('x'), options)).toBe(true);
    await flush();

    expect(options).toEqual({
      headers: { 'x-user': 'kept', traceparent: 'stale' },
      messageId: 'id-7',
      persistent: true,
    });
    const [sent] = fake.published;
    const [span] = spansNamed(`send ${queue}`);
    expect(spansNamed(`send ${queue}`)).toHaveLength(1);
    expect(sent.exchange).toBe('');
    expect(sent.options).toMatchObject({ messageId: 'id-7', persistent: true });
    expect(sent.options!.headers).toEqual({
      'x-user': 'kept',
      traceparent: `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`,
      'tasklens-enqueued-at': expect.stringMatching(/^\d+$/) as unknown,
      'tasklens-pipeline-started-at': expect.stringMatching(/^\d+$/) as unknown,
    });
    expect(span.kind).toBe(SpanKind.PRODUCER);
    expect(span.attributes['messaging.message.id']).toBe('id-7');
  });

  it('publish without options or with unencodable headers', async () => {
    const { fake, channel } = instrumented();
    channel.publish('ex', 'key', Buffer.from('x'));
    channel.publish('ex', 'key', Buffer.from('x'), { headers: 'bad' });
    await flush();
    expect(Object.keys(fake.published[0].options!.headers as object).sort()).toEqual([
      'tasklens-enqueued-at',
      'tasklens-pipeline-started-at',
      'traceparent',
    ]);
    expect(fake.published[1].options!.headers).toBe('bad');
    expect(spansNamed('send ex')).toHaveLength(2);
  });

  it('rethrows a publish error synchronously and marks the span ERROR', async () => {
    const { fake, channel } = instrumented();
    fake.throwOnPublish = new RangeError('headers too large');
    expect(() => channel.publish('throwing', 'key', Buffer.from('x'))).toThrow(RangeError);
    await flush();
    const [span] = spansNamed('send throwing');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('RangeError');
  });

  it('ConfirmChannel: the span lasts until the confirm; a broker nack marks it ERROR', async () => {
    const { fake, channel } = instrumented(undefined, new FakeConfirmChannel());
    const confirmChannel = channel as unknown as ConfirmChannel;
    const calls: unknown[] = [];
    confirmChannel.publish('confirmed', 'a', Buffer.from('x'), {}, (error) => calls.push(error));
    confirmChannel.sendToQueue('confirmed-queue', Buffer.from('x'), {}, (error) =>
      calls.push(error),
    );
    await flush();
    expect(spansNamed('send confirmed')).toHaveLength(0);
    fake.confirms[0]!(null, {});
    const nacked = new Error('message nacked');
    fake.confirms[1]!(nacked, undefined);
    await flush();
    expect(calls).toEqual([null, nacked]);
    expect(spansNamed('send confirmed')[0].status.code).toBe(SpanStatusCode.UNSET);
    expect(spansNamed('send confirmed-queue')[0].status.code).toBe(SpanStatusCode.ERROR);
  });

  it('a callback on a plain channel (never called by amqplib) does not keep the span open', async () => {
    const { channel } = instrumented();
    const confirmChannel = channel as unknown as ConfirmChannel;
    confirmChannel.publish('plain-with-callback', 'a', Buffer.from('x'), {}, () => undefined);
    await flush();
    expect(spansNamed('send plain-with-callback')).toHaveLength(1);
  });

  it('publishTaskName names the task; a throwing one falls back to the destination', async () => {
    const { channel } = instrumented({
      publishTaskName: ({ routingKey }) => {
        if (routingKey === 'boom') throw new Error('boom');
        return `task-${routingKey}`;
      },
    });
    channel.publish('named', 'resize', Buffer.from('x'));
    channel.publish('named', 'boom', Buffer.from('x'));
    await flush();
    expect(spansNamed('send named').map((span) => span.attributes['task.name'])).toEqual([
      'task-resize',
      'named',
    ]);
  });

  it('instrumenting twice changes nothing', async () => {
    const fake = new FakeChannel();
    const channel = instrumentChannel(fake as unknown as Channel);
    expect(instrumentChannel(channel)).toBe(channel);
    channel.sendToQueue('twice', Buffer.from('x'));
    await flush();
    expect(spansNamed('send twice')).toHaveLength(1);
  });
});

describe('consumer side', () => {
  it('a handler that throws synchronously: rethrown, and its error is the nack’s', () => {
    const { fake, channel } = instrumented();
    const queue = uniqueQueue();
    void channel.consume(queue, () => {
      throw new TypeError('bad payload');
    });
    const delivered = message(1);
    expect(() => fake.deliver(queue, delivered)).toThrow('bad payload');
    expect(spansNamed(`process ${queue}`)).toHaveLength(0);
    channel.nack(delivered, false, false);
    const [span] = spansNamed(`process ${queue}`);
    expect(span.attributes['error.type']).toBe('TypeError');
    expect(span.attributes['task.requeue']).toBe(false);
    expect(span.attributes['task.dead_lettered']).toBeUndefined();
    expect(span.events.map((event) => event.name)).toEqual(['exception']);
    expect(fake.settled).toEqual([['nack', 1, false, false]]);
  });

  it('an async handler’s rejection stays unhandled as without tasklens; ack records it and succeeds', async () => {
    const { fake, channel } = instrumented();
    const queue = uniqueQueue();
    const failure = new Error('rejected later');
    const listeners = process.listeners('unhandledRejection');
    process.removeAllListeners('unhandledRejection');
    const unhandled: unknown[] = [];
    process.on('unhandledRejection', (reason) => unhandled.push(reason));
    try {
      // eslint-disable-next-line @typescript-eslint/no-misused-promises -- an async handler, as users write them
      void channel.consume(queue, async () => {
        await flush();
        throw failure;
      });
      const delivered = message(1);
      fake.deliver(queue, delivered);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([failure]);
      channel.ack(delivered);
    } finally {
      process.removeAllListeners('unhandledRejection');
      for (const listener of listeners) process.on('unhandledRejection', listener);
    }
    const [span] = spansNamed(`process ${queue}`);
    expect(span.attributes['task.outcome']).toBe('success');
    expect(span.events.map((event) => event.name)).toEqual(['exception']);
  });

  it('noAck: a throwing handler fails the attempt (no retry) and is rethrown', () => {
    const { fake, channel } = instrumented();
    const queue = uniqueQueue();
    void channel.consume(
      queue,
      () => {
        throw new SyntaxError('no');
      },
      { noAck: true },
    );
    expect(() => fake.deliver(queue, message(1))).toThrow(SyntaxError);
    const [span] = spansNamed(`process ${queue}`);
    expect(span.attributes['task.outcome']).toBe('failure');
    expect(span.attributes['error.type']).toBe('SyntaxError');
    expect(span.attributes['task.retrying']).toBeUndefined();
  });

  it('ack(allUpTo) settles every open delivery up to the tag; ackAll and nackAll settle all', async () => {
    const { fake, channel } = instrumented();
    const queue = uniqueQueue();
    void channel.consume(queue, () => undefined);
    const messages = [1, 2, 3, 4, 5, 6].map((tag) => message(tag));
    for (const delivered of messages) fake.deliver(queue, delivered);
    channel.ack(messages[2], true);
    expect(spansNamed(`process ${queue}`)).toHaveLength(3);
    channel.reject(messages[3]);
    channel.nackAll();
    const spans = spansNamed(`process ${queue}`);
    expect(
      spans.map((span) => [
        span.attributes['messaging.rabbitmq.message.delivery_tag'],
        span.attributes['task.settlement'],
        span.attributes['task.retrying'] ?? false,
      ]),
    ).toEqual([
      [1, 'ack', false],
      [2, 'ack', false],
      [3, 'ack', false],
      [4, 'reject', true],
      [5, 'nack', true],
      [6, 'nack', true],
    ]);
    fake.deliver(queue, message(7));
    channel.ackAll();
    expect(spansNamed(`process ${queue}`)).toHaveLength(7);
    const retries = (await telemetry.metricPoints('task.retries')).filter(
      (point) => point.attributes['task.queue'] === queue,
    );
    expect(retries.map((point) => point.value)).toEqual([3]);
  });

  it('attempt numbers: x-delivery-count + 1 (number or bigint), else 2 when redelivered', () => {
    const { fake, channel } = instrumented();
    const queue = uniqueQueue();
    void channel.consume(queue, () => undefined);
    fake.deliver(queue, message(1));
    fake.deliver(queue, message(2, { redelivered: true }));
    fake.deliver(queue, message(3, { redelivered: true, headers: { 'x-delivery-count': 4 } }));
    fake.deliver(queue, message(4, { redelivered: true, headers: { 'x-delivery-count': 9n } }));
    fake.deliver(queue, message(5, { headers: { 'x-delivery-count': -3 } }));
    channel.ackAll();
    expect(spansNamed(`process ${queue}`).map((span) => span.attributes['task.attempt'])).toEqual([
      1, 2, 5, 10, 1,
    ]);
  });

  it('settleTimeoutMs (or its former name unsettledTimeoutMs) times out an unsettled delivery', async () => {
    for (const options of [{ settleTimeoutMs: 30 }, { unsettledTimeoutMs: 30 }]) {
      const { fake, channel } = instrumented(options);
      const queue = uniqueQueue();
      void channel.consume(queue, () => undefined);
      fake.deliver(queue, message(1));
      fake.deliver(queue, message(2));
      channel.ack(message(2));
      await vi.waitFor(() => expect(spansNamed(`process ${queue}`)).toHaveLength(2));
      channel.ack(message(1));
      const spans = spansNamed(`process ${queue}`);
      expect(
        spans.map((span) => [
          span.attributes['messaging.rabbitmq.message.delivery_tag'],
          span.attributes['task.outcome'],
          span.attributes['task.settlement'],
        ]),
      ).toEqual([
        [2, 'success', 'ack'],
        [1, 'timeout', undefined],
      ]);
      expect(spans[1].attributes['error.type']).toBe('TaskTimeoutError');
    }
  });

  it('an attempt acked while its handler still runs ends when the handler does', async () => {
    const { fake, channel } = instrumented();
    const queue = uniqueQueue();
    let finish: () => void = () => undefined;
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- an async handler, as users write them
    void channel.consume(queue, async (delivered) => {
      channel.ack(delivered!);
      await new Promise<void>((resolve) => (finish = resolve));
    });
    const done = fake.deliver(queue, message(1));
    await flush();
    expect(spansNamed(`process ${queue}`)).toHaveLength(0);
    finish();
    await done;
    const [span] = spansNamed(`process ${queue}`);
    expect(span.attributes['task.outcome']).toBe('success');
    expect(span.attributes['task.settlement']).toBe('ack');
  });

  it('hostile headers (megabytes of baggage, getters, proxies, non-strings) run as new root traces', () => {
    const { fake, channel } = instrumented();
    const queue = uniqueQueue();
    const seen: ConsumeMessage[] = [];
    void channel.consume(queue, (delivered) => {
      if (delivered !== null) seen.push(delivered);
    });
    const valid = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const hostile: unknown[] = [
      { traceparent: valid, baggage: `k=${'v'.repeat(4 * 1024 * 1024)}` },
      Object.defineProperty({}, 'traceparent', {
        get() {
          throw new Error('getter');
        },
        enumerable: true,
      }),
      new Proxy(
        {},
        {
          getOwnPropertyDescriptor() {
            throw new Error('trap');
          },
        },
      ),
      { traceparent: { toString: () => valid }, 'x-delivery-count': 'many', 'x-death': 'no' },
      {
        'x-death': [
          {
            get queue(): string {
              throw new Error('getter');
            },
            count: 2,
          },
        ],
      },
      'a string',
    ];
    for (const [index, headers] of hostile.entries())
      fake.deliver(queue, message(index + 1, { headers }));
    channel.ackAll();
    expect(seen).toHaveLength(hostile.length);
    const spans = spansNamed(`process ${queue}`);
    expect(spans).toHaveLength(hostile.length);
    for (const span of spans) {
      expect(span.parentSpanContext).toBeUndefined();
      expect(span.spanContext().traceId).not.toBe('0af7651916cd43dd8448eb211c80319c');
      expect(span.attributes['task.outcome']).toBe('success');
      expect(span.attributes['task.attempt']).toBe(1);
    }
    expect(spans[4].attributes['task.dead_letter.count']).toBe(2);
    expect(spans[4].attributes['task.dead_letter.queue']).toBeUndefined();
  });

  it('expected errors thrown by the handler and then nacked count as success', () => {
    class Busy extends Error {}
    const { fake, channel } = instrumented({ expectedErrors: [Busy] });
    const queue = uniqueQueue();
    void channel.consume(queue, () => {
      throw new Busy('try later');
    });
    const delivered = message(1);
    expect(() => fake.deliver(queue, delivered)).toThrow(Busy);
    channel.nack(delivered);
    const [span] = spansNamed(`process ${queue}`);
    expect(span.attributes['task.outcome']).toBe('success');
    expect(span.attributes['task.expected_error']).toBe(true);
  });

  it('a nack after a handler that did not throw records MessageNackedError', () => {
    const { fake, channel } = instrumented();
    const queue = uniqueQueue();
    void channel.consume(
      queue,
      taskConsumer(() => undefined, { taskName: () => 'nacked-task' }),
    );
    const delivered = message(1);
    fake.deliver(queue, delivered);
    channel.nack(delivered, false, true);
    const [span] = spansNamed(`process ${queue}`);
    expect(span.attributes['task.name']).toBe('nacked-task');
    expect(span.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'message nacked (requeue=true)',
    });
    expect(span.events[0].attributes?.['exception.type']).toBe('MessageNackedError');
    expect(new MessageNackedError('reject', false).message).toBe(
      'message rejected (requeue=false)',
    );
  });

  it('a consumer cancelled by the broker (null message) reaches the handler untouched', () => {
    const { fake, channel } = instrumented();
    const queue = uniqueQueue();
    const seen: unknown[] = [];
    void channel.consume(queue, (delivered) => seen.push(delivered));
    fake.deliver(queue, null);
    expect(seen).toEqual([null]);
    expect(spansNamed(`process ${queue}`)).toHaveLength(0);
  });

  it('channel close ends open deliveries as cancelled', () => {
    const { fake, channel } = instrumented();
    const queue = uniqueQueue();
    void channel.consume(queue, () => undefined);
    fake.deliver(queue, message(1));
    fake.emit('close');
    expect(spansNamed(`process ${queue}`).map((span) => span.attributes['task.outcome'])).toEqual([
      'cancelled',
    ]);
  });
});
