/*
 * @tasklens/amqplib against the real RabbitMQ on 127.0.0.1: producers run in their own Node
 * process (fixtures/producer.mjs) wherever the claim crosses processes.
 */
import { diag, DiagLogLevel, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { DiagLogger } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrumentChannel, taskConsumer } from '@tasklens/amqplib';
import { closedPort, startInMemoryTelemetry } from '@tasklens/test-utils';
import { connectRabbitMq, runProducer, uniqueName, waitFor } from './support/rabbitmq.js';

const telemetry = startInMemoryTelemetry();
let connection: ChannelModel;
let admin: Channel;
const queues: string[] = [];
const exchanges: string[] = [];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function declareQueue(
  prefix: string,
  options: Parameters<Channel['assertQueue']>[1] = { durable: false },
): Promise<string> {
  const queue = uniqueName(prefix);
  queues.push(queue);
  await admin.assertQueue(queue, options);
  return queue;
}

async function instrumentedChannel(
  options?: Parameters<typeof instrumentChannel>[1],
): Promise<Channel> {
  return instrumentChannel(await connection.createChannel(), options);
}

function processSpans(queue: string): ReadableSpan[] {
  return telemetry.spans().filter((span) => span.name === `process ${queue}`);
}

function spansDone(queue: string, count: number): Promise<ReadableSpan[]> {
  return waitFor(`${count} process span(s) of ${queue}`, () => {
    const spans = processSpans(queue);
    return spans.length >= count ? spans : undefined;
  });
}

async function points(name: string, queue: string) {
  return (await telemetry.metricPoints(name)).filter(
    (point) => point.attributes['task.queue'] === queue,
  );
}

beforeAll(async () => {
  connection = await connectRabbitMq();
  admin = await connection.createChannel();
});

afterAll(async () => {
  const cleanup = await connection.createChannel();
  for (const queue of queues) await cleanup.deleteQueue(queue);
  for (const exchange of exchanges) await cleanup.deleteExchange(exchange);
  await connection.close();
  await telemetry.shutdown();
});

describe('@tasklens/amqplib with RabbitMQ', () => {
  it('fails with how to start RabbitMQ when the broker is unreachable', async () => {
    const port = await closedPort();
    await expect(connectRabbitMq(`amqp://guest:guest@127.0.0.1:${port}`)).rejects.toThrow(
      `RabbitMQ is not reachable at amqp://guest:guest@127.0.0.1:${port}`,
    );
    await expect(connectRabbitMq(`amqp://guest:guest@127.0.0.1:${port}`)).rejects.toThrow(
      'Start it with: rabbitmq-server -detached',
    );
  });

  it('joins the producer trace across processes, keeps user headers, measures the queue wait', async () => {
    const queue = await declareQueue('parent');
    const producer = await runProducer({
      mode: 'sendToQueue',
      queue,
      messageId: 'msg-1',
      headers: { 'x-user': 'kept', 'x-number': 7 },
    });
    const publishedBy = Date.now();
    await sleep(300);
    const channel = await instrumentedChannel();
    let received: ConsumeMessage | undefined;
    const waitedAtLeast = (Date.now() - publishedBy) / 1000;
    await channel.consume(queue, (message) => {
      if (message === null) return;
      received = message;
      channel.ack(message);
    });
    const [span] = await spansDone(queue, 1);
    await channel.close();

    expect(producer.spans).toHaveLength(1);
    const send = producer.spans[0];
    expect(send.name).toBe(`send ${queue}`);
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.status.code).toBe(SpanStatusCode.UNSET);
    expect(send.attributes).toEqual({
      'task.name': queue,
      'task.id': 'msg-1',
      'messaging.operation.type': 'send',
      'messaging.system': 'rabbitmq',
      'messaging.destination.name': queue,
      'messaging.message.id': 'msg-1',
      'messaging.rabbitmq.destination.routing_key': queue,
    });
    expect(producer.returned).toEqual([true]);

    const headers = received!.properties.headers!;
    expect(headers['x-user']).toBe('kept');
    expect(headers['x-number']).toBe(7);
    expect(headers.traceparent).toBe(`00-${send.traceId}-${send.spanId}-01`);

    expect(span.kind).toBe(SpanKind.CONSUMER);
    expect(span.spanContext().traceId).toBe(send.traceId);
    expect(span.parentSpanContext?.spanId).toBe(send.spanId);
    expect(span.links).toEqual([]);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    const { 'task.wait.duration': wait, ...attributes } = span.attributes;
    expect(attributes).toEqual({
      'task.name': queue,
      'task.attempt': 1,
      'task.id': 'msg-1',
      'task.outcome': 'success',
      'task.settlement': 'ack',
      'messaging.system': 'rabbitmq',
      'messaging.operation.type': 'process',
      'messaging.destination.name': queue,
      'messaging.message.id': 'msg-1',
      'messaging.rabbitmq.destination.routing_key': queue,
      'messaging.rabbitmq.message.delivery_tag': 1,
    });
    expect(wait).toBeGreaterThanOrEqual(waitedAtLeast);

    const labels = { 'task.name': queue, 'task.queue': queue, 'messaging.system': 'rabbitmq' };
    const durations = await points('task.duration', queue);
    expect(durations.map(({ attributes, count }) => ({ attributes, count }))).toEqual([
      { attributes: { ...labels, 'task.outcome': 'success' }, count: 1 },
    ]);
    const waits = await points('task.wait.duration', queue);
    expect(waits).toHaveLength(1);
    expect(waits[0].attributes).toEqual(labels);
    expect(waits[0].count).toBe(1);
    expect(waits[0].sum).toBeGreaterThanOrEqual(waitedAtLeast);
    const active = await points('task.active', queue);
    expect(active.map((point) => point.value)).toEqual([0]);
  });

  it('publish to an exchange: send {exchange} with the routing key; link mode per channel', async () => {
    const exchange = uniqueName('exchange');
    exchanges.push(exchange);
    await admin.assertExchange(exchange, 'direct', { durable: false });
    const queue = await declareQueue('link');
    await admin.bindQueue(queue, exchange, 'orders.created');
    const producer = await runProducer({
      mode: 'publish',
      exchange,
      routingKey: 'orders.created',
    });
    const channel = await instrumentedChannel({ traceMode: 'link' });
    await channel.consume(queue, (message) => {
      if (message !== null) channel.ack(message);
    });
    const [span] = await spansDone(queue, 1);
    await channel.close();

    const send = producer.spans[0];
    expect(send.name).toBe(`send ${exchange}`);
    expect(send.attributes['messaging.destination.name']).toBe(exchange);
    expect(send.attributes['task.name']).toBe(exchange);
    expect(send.attributes['messaging.rabbitmq.destination.routing_key']).toBe('orders.created');

    expect(span.spanContext().traceId).not.toBe(send.traceId);
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.links.map((link) => link.context)).toEqual([
      expect.objectContaining({ traceId: send.traceId, spanId: send.spanId }),
    ]);
    expect(span.attributes['messaging.rabbitmq.destination.routing_key']).toBe('orders.created');
    expect(span.attributes['task.outcome']).toBe('success');
  });

  it('link mode and task name per consumer with taskConsumer; confirm channel callbacks', async () => {
    const queue = await declareQueue('per-consumer');
    const producer = await runProducer({
      mode: 'publish',
      confirm: true,
      exchange: '',
      routingKey: queue,
    });
    expect(producer.confirms).toEqual([null]);
    const send = producer.spans[0];
    expect(send.name).toBe(`send ${queue}`);
    expect(send.status.code).toBe(SpanStatusCode.UNSET);

    const channel = await instrumentedChannel();
    await channel.consume(
      queue,
      taskConsumer(
        (message) => {
          if (message !== null) channel.ack(message);
        },
        { traceMode: 'link', taskName: (message) => `resize-${message.fields.routingKey.length}` },
      ),
    );
    const [span] = await spansDone(queue, 1);
    await channel.close();
    expect(span.attributes['task.name']).toBe(`resize-${queue.length}`);
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.links.map((link) => link.context.spanId)).toEqual([send.spanId]);
  });

  it('nack(requeue) twice then ack on a quorum queue: attempts 1, 2 failed and retrying, 3 succeeds', async () => {
    const queue = await declareQueue('retry', {
      durable: true,
      arguments: { 'x-queue-type': 'quorum' },
    });
    const producer = await runProducer({ mode: 'sendToQueue', queue });
    const send = producer.spans[0];
    const channel = await instrumentedChannel();
    let deliveries = 0;
    await channel.consume(queue, (message) => {
      if (message === null) return;
      deliveries += 1;
      if (deliveries < 3) channel.nack(message);
      else channel.ack(message);
    });
    const spans = await spansDone(queue, 3);
    await channel.close();

    expect(spans.map((span) => span.attributes['task.attempt'])).toEqual([1, 2, 3]);
    expect(spans.map((span) => span.status.code)).toEqual([
      SpanStatusCode.ERROR,
      SpanStatusCode.ERROR,
      SpanStatusCode.UNSET,
    ]);
    expect(spans.map((span) => span.attributes['task.outcome'])).toEqual([
      'failure',
      'failure',
      'success',
    ]);
    expect(spans.map((span) => span.attributes['task.retrying'])).toEqual([true, true, undefined]);
    expect(spans.map((span) => span.attributes['task.settlement'])).toEqual([
      'nack',
      'nack',
      'ack',
    ]);
    expect(spans.map((span) => span.attributes['task.requeue'])).toEqual([true, true, undefined]);
    expect(spans.map((span) => span.attributes['error.type'])).toEqual([
      'MessageNackedError',
      'MessageNackedError',
      undefined,
    ]);
    expect(spans[0].events.map((event) => event.name)).toEqual(['exception']);
    for (const span of spans) {
      expect(span.spanContext().traceId).toBe(send.traceId);
      expect(span.parentSpanContext?.spanId).toBe(send.spanId);
    }

    const labels = { 'task.name': queue, 'task.queue': queue, 'messaging.system': 'rabbitmq' };
    const durations = await points('task.duration', queue);
    expect(durations.map(({ attributes, count }) => ({ attributes, count }))).toEqual([
      {
        attributes: { ...labels, 'task.outcome': 'failure', 'error.type': 'MessageNackedError' },
        count: 2,
      },
      { attributes: { ...labels, 'task.outcome': 'success' }, count: 1 },
    ]);
    expect((await points('task.retries', queue)).map((point) => point.value)).toEqual([2]);
    expect((await points('task.wait.duration', queue)).map((point) => point.count)).toEqual([3]);
    expect((await points('task.active', queue)).map((point) => point.value)).toEqual([0]);
  });

  it('reject(requeue=false) dead-letters: the DLQ consumer sees x-death in the same trace', async () => {
    const deadLetterExchange = uniqueName('dlx');
    exchanges.push(deadLetterExchange);
    await admin.assertExchange(deadLetterExchange, 'fanout', { durable: false });
    const deadLetterQueue = await declareQueue('dlq');
    await admin.bindQueue(deadLetterQueue, deadLetterExchange, '');
    const channel = await instrumentedChannel();
    const queue = uniqueName('work');
    queues.push(queue);
    await channel.assertQueue(queue, { durable: false, deadLetterExchange });

    const producer = await runProducer({ mode: 'sendToQueue', queue });
    const send = producer.spans[0];
    await channel.consume(queue, (message) => {
      if (message !== null) channel.reject(message, false);
    });
    let deadLettered: ConsumeMessage | undefined;
    await channel.consume(deadLetterQueue, (message) => {
      if (message === null) return;
      deadLettered = message;
      channel.ack(message);
    });
    const [rejected] = await spansDone(queue, 1);
    const [fromDeadLetter] = await spansDone(deadLetterQueue, 1);
    await channel.close();

    expect(rejected.status.code).toBe(SpanStatusCode.ERROR);
    expect(rejected.attributes).toMatchObject({
      'task.outcome': 'failure',
      'task.settlement': 'reject',
      'task.requeue': false,
      'task.dead_lettered': true,
      'error.type': 'MessageNackedError',
    });
    expect(rejected.attributes['task.retrying']).toBeUndefined();
    expect(await points('task.retries', queue)).toEqual([]);

    expect(deadLettered!.properties.headers!['x-death']).toHaveLength(1);
    expect(fromDeadLetter.spanContext().traceId).toBe(send.traceId);
    expect(fromDeadLetter.parentSpanContext?.spanId).toBe(send.spanId);
    expect(fromDeadLetter.attributes).toMatchObject({
      'task.name': deadLetterQueue,
      'task.attempt': 1,
      'task.outcome': 'success',
      'task.dead_letter.queue': queue,
      'task.dead_letter.exchange': '',
      'task.dead_letter.reason': 'rejected',
      'task.dead_letter.count': 1,
      'messaging.rabbitmq.destination.routing_key': queue,
    });
  });

  it('ends the span of a never-settled delivery after the timeout, with one warning', async () => {
    const warnings: string[] = [];
    const logger: DiagLogger = {
      error: () => undefined,
      warn: (message: string) => warnings.push(message),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    };
    diag.setLogger(logger, DiagLogLevel.WARN);
    try {
      const queue = await declareQueue('unsettled');
      await runProducer({ mode: 'sendToQueue', queue });
      const channel = await instrumentedChannel({ settleTimeoutMs: 150 });
      let held: ConsumeMessage | undefined;
      await channel.consume(queue, (message) => {
        if (message !== null) held = message;
      });
      const [span] = await spansDone(queue, 1);
      expect(span.attributes['task.outcome']).toBe('timeout');
      expect(span.attributes['error.type']).toBe('TaskTimeoutError');
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
      expect(
        warnings.filter((warning) => warning.includes('neither acknowledged nor rejected')),
      ).toHaveLength(1);
      expect((await points('task.active', queue)).map((point) => point.value)).toEqual([0]);
      const durations = await points('task.duration', queue);
      expect(durations.map(({ attributes, count }) => [attributes['task.outcome'], count])).toEqual(
        [['timeout', 1]],
      );

      channel.ack(held!);
      await sleep(100);
      expect(processSpans(queue)).toHaveLength(1);
      await channel.close();
    } finally {
      diag.disable();
    }
  });

  it('channel close and connection loss end open spans as cancelled; the redelivery is attempt 2', async () => {
    const queue = await declareQueue('closed');
    await runProducer({ mode: 'sendToQueue', queue, count: 2 });

    const lost = await connectRabbitMq();
    const first = instrumentChannel(await lost.createChannel());
    await first.prefetch(1);
    let delivered = false;
    await first.consume(queue, () => {
      delivered = true;
    });
    await waitFor('a delivery', () => (delivered ? true : undefined));
    await lost.close();
    const [cancelledByConnection] = await spansDone(queue, 1);
    expect(cancelledByConnection.attributes['task.outcome']).toBe('cancelled');
    expect(cancelledByConnection.status.code).toBe(SpanStatusCode.UNSET);

    const second = await instrumentedChannel();
    await second.prefetch(1);
    let redelivered: ConsumeMessage | undefined;
    await second.consume(queue, (message) => {
      if (message !== null) redelivered ??= message;
    });
    await waitFor('a redelivery', () => redelivered);
    await second.close();
    const spans = await spansDone(queue, 2);
    expect(redelivered!.fields.redelivered).toBe(true);
    expect(spans[1].attributes['task.outcome']).toBe('cancelled');
    expect(spans[1].attributes['task.attempt']).toBe(2);

    const durations = await points('task.duration', queue);
    expect(durations.map(({ attributes, count }) => [attributes['task.outcome'], count])).toEqual([
      ['cancelled', 2],
    ]);
    expect((await points('task.active', queue)).map((point) => point.value)).toEqual([0]);
  });

  it('processes messages of uninstrumented producers and hostile headers as new root traces', async () => {
    const queue = await declareQueue('hostile');
    const valid = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const headerSets: (Record<string, unknown> | undefined)[] = [
      undefined,
      { traceparent: 'not-a-traceparent', 'tasklens-enqueued-at': 'yesterday' },
      { traceparent: 12345, 'tasklens-enqueued-at': { nested: 1 }, tracestate: ['x'] },
      JSON.parse(`{"__proto__": {"traceparent": "${valid}"}, "x-kept": "yes"}`) as Record<
        string,
        unknown
      >,
      { traceparent: valid, baggage: `k=${'v'.repeat(60_000)}` },
    ];
    for (const headers of headerSets) {
      admin.sendToQueue(queue, Buffer.from('{}'), headers === undefined ? {} : { headers });
    }
    const channel = await instrumentedChannel();
    const handled: ConsumeMessage[] = [];
    await channel.consume(queue, (message) => {
      if (message === null) return;
      handled.push(message);
      channel.ack(message);
    });
    const spans = await spansDone(queue, headerSets.length);
    await channel.close();

    expect(handled).toHaveLength(headerSets.length);
    expect(handled[3].properties.headers!['x-kept']).toBe('yes');
    expect(Object.getPrototypeOf(handled[3].properties.headers)).toEqual({ traceparent: valid });
    const traceIds = new Set(spans.map((span) => span.spanContext().traceId));
    expect(traceIds.size).toBe(headerSets.length);
    expect(traceIds.has('0af7651916cd43dd8448eb211c80319c')).toBe(false);
    for (const span of spans) {
      expect(span.parentSpanContext).toBeUndefined();
      expect(span.links).toEqual([]);
      expect(span.attributes['task.outcome']).toBe('success');
      expect(span.status.code).toBe(SpanStatusCode.UNSET);
    }
    const durations = await points('task.duration', queue);
    expect(durations.map(({ attributes, count }) => [attributes['task.outcome'], count])).toEqual([
      ['success', headerSets.length],
    ]);
    expect(await points('task.wait.duration', queue)).toEqual([]);
    const rejected = (await telemetry.metricPoints('task.carrier.rejected')).filter(
      (point) => point.attributes['task.name'] === queue,
    );
    expect(rejected.map((point) => [point.attributes.reason, point.value])).toEqual([
      ['malformed-enqueued-at', 2],
      ['malformed-traceparent', 1],
      ['non-string-value', 1],
      ['oversized', 1],
    ]);
  });

  it('noAck consumers end the span when the handler settles', async () => {
    const queue = await declareQueue('no-ack');
    await runProducer({ mode: 'sendToQueue', queue });
    const channel = await instrumentedChannel();
    let finishedHandler = false;
    await channel.consume(
      queue,
      // amqplib ignores the handler's promise; tasklens ends a noAck span when it settles.
      // eslint-disable-next-line @typescript-eslint/no-misused-promises
      async (message) => {
        if (message === null) return;
        await sleep(50);
        finishedHandler = true;
      },
      { noAck: true },
    );
    const [span] = await spansDone(queue, 1);
    expect(finishedHandler).toBe(true);
    expect(span.attributes['task.outcome']).toBe('success');
    expect(span.attributes['task.settlement']).toBeUndefined();
    await channel.close();
  });
});
