/*
 * The cross-process claims, on the real NATS JetStream at 127.0.0.1:4222: the producer runs in its
 * own Node process (fixtures/producer.mjs, with its own SDK), the worker here.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { JsMsg } from '@nats-io/jetstream';
import { consumerTaskOptions, processTask } from '@tasklens/nats';
import { afterAll, describe, expect, it } from 'vitest';
import { startInMemoryTelemetry } from '@tasklens/test-utils';
import { produceInChildProcess, useJetStreamBroker } from './support/jetstream-broker.js';
import type { ProducedSpan } from './support/jetstream-broker.js';

const telemetry = startInMemoryTelemetry();
const broker = useJetStreamBroker();

afterAll(async () => {
  await telemetry.shutdown();
});

async function nextMessage(stream: string): Promise<JsMsg> {
  const consumer = await broker.js.consumers.get(stream, 'worker');
  const msg = await consumer.next({ expires: 5000 });
  if (msg === null) throw new Error(`no message on ${stream}`);
  return msg;
}

function processSpans(stream: string): ReadableSpan[] {
  return telemetry
    .spans()
    .filter((span) => span.name === `process ${stream}`)
    .sort((a, b) => Number(a.attributes['task.attempt']) - Number(b.attributes['task.attempt']));
}

async function pointsOf(metric: string, stream: string) {
  return (await telemetry.metricPoints(metric)).filter(
    (point) => point.attributes['task.name'] === stream,
  );
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function onlySpan(spans: ProducedSpan[]): ProducedSpan {
  expect(spans).toHaveLength(1);
  return spans[0];
}

describe('a message published in another process', () => {
  it('is processed in the producer trace, under its send span, with the queue wait', async () => {
    const { stream, subjects } = await broker.newStream('parent');
    const subject = `${subjects}.order-123`;
    const produced = await produceInChildProcess({ subject, mode: 'instrumented' });
    const send = onlySpan(produced.spans);
    expect(send).toEqual({
      name: `send ${stream}`,
      kind: SpanKind.PRODUCER,
      traceId: expect.stringMatching(/^[0-9a-f]{32}$/) as unknown,
      spanId: expect.stringMatching(/^[0-9a-f]{16}$/) as unknown,
      attributes: {
        'task.name': stream,
        'task.id': '1',
        'messaging.system': 'nats',
        'messaging.operation.type': 'send',
        'messaging.destination.name': subject,
        'messaging.message.id': '1',
      },
      status: { code: SpanStatusCode.UNSET },
    });

    await delay(200);
    const beforeConsume = Date.now();
    const msg = await nextMessage(stream);
    const result = await processTask(msg, (delivered) => {
      delivered.ack();
      return delivered.json<{ n: number }>();
    });
    const gapMs = beforeConsume - produced.acks[0].at;

    expect(result).toEqual({ n: 0 });
    const [span, ...others] = processSpans(stream);
    expect(others).toEqual([]);
    expect(span?.kind).toBe(SpanKind.CONSUMER);
    expect(span?.spanContext().traceId).toBe(send.traceId);
    expect(span?.parentSpanContext?.spanId).toBe(send.spanId);
    expect(span?.links).toEqual([]);
    expect(span?.status).toEqual({ code: SpanStatusCode.UNSET });
    expect(span?.attributes).toEqual({
      'task.name': stream,
      'task.attempt': 1,
      'task.id': '1',
      'task.outcome': 'success',
      'task.settlement': 'ack',
      'task.wait.duration': expect.any(Number) as unknown,
      'messaging.system': 'nats',
      'messaging.operation.type': 'process',
      'messaging.message.id': '1',
      'messaging.destination.name': subject,
      'messaging.consumer.group.name': 'worker',
    });
    const waitSeconds = span?.attributes['task.wait.duration'] as number;
    expect(gapMs).toBeGreaterThanOrEqual(200);
    expect(waitSeconds * 1000).toBeGreaterThanOrEqual(gapMs);

    const labels = { 'task.name': stream, 'task.queue': stream, 'messaging.system': 'nats' };
    expect(await pointsOf('task.duration', stream)).toEqual([
      expect.objectContaining({ attributes: { ...labels, 'task.outcome': 'success' }, count: 1 }),
    ]);
    expect(await pointsOf('task.wait.duration', stream)).toEqual([
      expect.objectContaining({ attributes: labels, count: 1, sum: waitSeconds }),
    ]);
    expect(await pointsOf('task.active', stream)).toEqual([
      expect.objectContaining({
        attributes: { 'task.name': stream, 'task.queue': stream },
        value: 0,
      }),
    ]);
  });

  it('is linked to the send span, in a new trace, in link mode', async () => {
    const { stream, subjects } = await broker.newStream('link');
    const produced = await produceInChildProcess({
      subject: `${subjects}.a`,
      mode: 'publish-task',
      name: 'place-order',
      queue: 'orders',
      msgID: 'order-7',
    });
    const send = onlySpan(produced.spans);
    expect(send.name).toBe('send orders');
    expect(send.attributes).toMatchObject({
      'task.name': 'place-order',
      'task.id': 'order-7',
      'messaging.message.id': 'order-7',
      'messaging.destination.name': `${subjects}.a`,
    });

    const consumer = await broker.js.consumers.get(stream, 'worker');
    const options = await consumerTaskOptions(consumer, { traceMode: 'link' });
    await processTask(await nextMessage(stream), (msg) => msg.ack(), options);

    const [span] = processSpans(stream);
    expect(span?.spanContext().traceId).not.toBe(send.traceId);
    expect(span?.parentSpanContext).toBeUndefined();
    expect(span?.links.map((link) => link.context)).toEqual([
      expect.objectContaining({ traceId: send.traceId, spanId: send.spanId }),
    ]);
    expect(span?.attributes['messaging.message.id']).toBe('order-7');
  });

  it('naks twice then acks: attempts 1 and 2 fail and retry, attempt 3 succeeds', async () => {
    const { stream, subjects } = await broker.newStream('retry', { max_deliver: 5 });
    const produced = await produceInChildProcess({
      subject: `${subjects}.job`,
      mode: 'instrumented',
    });
    const send = onlySpan(produced.spans);

    const consumer = await broker.js.consumers.get(stream, 'worker');
    const options = await consumerTaskOptions(consumer);
    expect(options).toMatchObject({ maxDeliver: 5, ackPolicy: 'explicit' });
    const messages = await consumer.consume({ max_messages: 10 });
    for await (const msg of messages) {
      await processTask(
        msg,
        (delivered) => {
          if (delivered.info.deliveryCount < 3) delivered.nak(50);
          else delivered.ack();
        },
        options,
      );
      if (msg.info.deliveryCount === 3) break;
    }

    const spans = processSpans(stream);
    expect(spans.map((span) => span.attributes['task.attempt'])).toEqual([1, 2, 3]);
    for (const span of spans) {
      expect(span.spanContext().traceId).toBe(send.traceId);
      expect(span.parentSpanContext?.spanId).toBe(send.spanId);
      expect(span.attributes['task.max_attempts']).toBe(5);
    }
    for (const failed of spans.slice(0, 2)) {
      expect(failed.status.code).toBe(SpanStatusCode.ERROR);
      expect(failed.attributes).toMatchObject({
        'task.outcome': 'failure',
        'task.retrying': true,
        'error.type': 'JetStreamNakError',
        'task.settlement': 'nak',
        'task.requeue': true,
      });
      expect(failed.events.map((event) => event.name)).toEqual(['exception']);
    }
    expect(spans[2]?.status.code).toBe(SpanStatusCode.UNSET);
    expect(spans[2]?.attributes['task.outcome']).toBe('success');
    expect(spans[2]?.attributes['task.retrying']).toBeUndefined();

    const labels = { 'task.name': stream, 'task.queue': stream, 'messaging.system': 'nats' };
    expect(await pointsOf('task.duration', stream)).toEqual([
      expect.objectContaining({
        attributes: { ...labels, 'task.outcome': 'failure', 'error.type': 'JetStreamNakError' },
        count: 2,
      }),
      expect.objectContaining({ attributes: { ...labels, 'task.outcome': 'success' }, count: 1 }),
    ]);
    expect(await pointsOf('task.retries', stream)).toEqual([
      expect.objectContaining({
        attributes: { 'task.name': stream, 'task.queue': stream },
        value: 2,
      }),
    ]);
    expect(await pointsOf('task.wait.duration', stream)).toEqual([
      expect.objectContaining({ attributes: labels, count: 3 }),
    ]);
    expect(await pointsOf('task.active', stream)).toEqual([expect.objectContaining({ value: 0 })]);
  });

  it('naks on the max_deliver-th delivery as a final failure', async () => {
    const { stream, subjects } = await broker.newStream('exhausted', { max_deliver: 2 });
    await produceInChildProcess({ subject: `${subjects}.job`, mode: 'instrumented' });
    const options = await consumerTaskOptions(await broker.js.consumers.get(stream, 'worker'));
    for (let delivery = 1; delivery <= 2; delivery++) {
      await processTask(await nextMessage(stream), (msg) => msg.nak(10), options);
    }

    const spans = processSpans(stream);
    expect(spans.map((span) => span.attributes['task.attempt'])).toEqual([1, 2]);
    expect(spans[0]?.attributes['task.retrying']).toBe(true);
    expect(spans[1]?.attributes['task.retrying']).toBeUndefined();
    expect(spans[1]?.attributes['task.outcome']).toBe('failure');
    expect(await pointsOf('task.retries', stream)).toEqual([expect.objectContaining({ value: 1 })]);
  });

  it('terms as a final failure, never redelivered', async () => {
    const { stream, subjects } = await broker.newStream('term', { max_deliver: 5 });
    await produceInChildProcess({ subject: `${subjects}.job`, mode: 'instrumented' });
    const options = await consumerTaskOptions(await broker.js.consumers.get(stream, 'worker'));
    await processTask(await nextMessage(stream), (msg) => msg.term('bad payload'), options);
    const consumer = await broker.js.consumers.get(stream, 'worker');
    expect(await consumer.next({ expires: 1000 })).toBeNull();

    const [span, ...others] = processSpans(stream);
    expect(others).toEqual([]);
    expect(span?.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'message terminated by the handler: bad payload',
    });
    expect(span?.attributes).toMatchObject({
      'task.outcome': 'failure',
      'error.type': 'JetStreamTermError',
      'task.settlement': 'term',
      'task.requeue': false,
    });
    expect(span?.attributes['task.retrying']).toBeUndefined();
    const labels = { 'task.name': stream, 'task.queue': stream, 'messaging.system': 'nats' };
    expect(await pointsOf('task.duration', stream)).toEqual([
      expect.objectContaining({
        attributes: { ...labels, 'task.outcome': 'failure', 'error.type': 'JetStreamTermError' },
        count: 1,
      }),
    ]);
    expect(await pointsOf('task.retries', stream)).toEqual([]);
  });
});

describe('messages from producers without tasklens', () => {
  it('are processed as new root traces, waiting from the time the stream stored them', async () => {
    const { stream, subjects } = await broker.newStream('plain');
    const produced = await produceInChildProcess({ subject: `${subjects}.job`, mode: 'plain' });
    expect(produced.spans).toEqual([]);
    await delay(200);
    const beforeConsume = Date.now();
    await processTask(await nextMessage(stream), (msg) => msg.ack());
    const gapMs = beforeConsume - produced.acks[0].at;

    const [span] = processSpans(stream);
    expect(span?.parentSpanContext).toBeUndefined();
    expect(span?.links).toEqual([]);
    expect(span?.attributes['task.outcome']).toBe('success');
    const waitSeconds = span?.attributes['task.wait.duration'] as number;
    expect(waitSeconds).toBeGreaterThan(0);
    expect(waitSeconds * 1000).toBeGreaterThanOrEqual(gapMs - 1);
    expect(await pointsOf('task.duration', stream)).toEqual([
      expect.objectContaining({ count: 1 }),
    ]);
    expect(await pointsOf('task.wait.duration', stream)).toEqual([
      expect.objectContaining({ count: 1 }),
    ]);
  });

  it('survive hostile headers: processed normally, new root traces, measured, counted', async () => {
    const { stream, subjects } = await broker.newStream('hostile');
    await produceInChildProcess({
      subject: `${subjects}.bad-traceparent`,
      mode: 'plain',
      headers: { traceparent: '00-not-a-trace-01', tracestate: 'x=1' },
    });
    await produceInChildProcess({
      subject: `${subjects}.oversized`,
      mode: 'plain',
      headers: {
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        baggage: `k=${'x'.repeat(9000)}`,
        'tasklens-enqueued-at': 'soon',
      },
    });
    await produceInChildProcess({
      subject: `${subjects}.weird-keys`,
      mode: 'raw-headers',
      rawHeaders: [
        ['__proto__', 'polluted'],
        ['constructor', 'x'],
        ['a key with spaces', 'y'],
        ['traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
      ],
    });

    const handled: string[] = [];
    for (let i = 0; i < 3; i++) {
      await processTask(await nextMessage(stream), (msg) => {
        handled.push(msg.subject.slice(subjects.length + 1));
        msg.ack();
      });
    }

    expect(handled).toEqual(['bad-traceparent', 'oversized', 'weird-keys']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const spans = processSpans(stream);
    expect(spans).toHaveLength(3);
    for (const span of spans) {
      expect(span.parentSpanContext).toBeUndefined();
      expect(span.links).toEqual([]);
      expect(span.attributes['task.outcome']).toBe('success');
    }
    expect(new Set(spans.map((span) => span.spanContext().traceId)).size).toBe(3);
    expect(await pointsOf('task.duration', stream)).toEqual([
      expect.objectContaining({ count: 3 }),
    ]);
    const rejected = (await telemetry.metricPoints('task.carrier.rejected'))
      .filter((point) => point.attributes['task.name'] === stream)
      .map((point) => [point.attributes.reason, point.value]);
    expect(rejected).toEqual([
      ['malformed-enqueued-at', 1],
      ['malformed-traceparent', 1],
      ['oversized', 1],
    ]);
  });
});
