/*
 * The producer side against the real JetStream server: span names and attributes, headers merged
 * with the user's, failed publishes, and no double instrumentation.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { jetstream } from '@nats-io/jetstream';
import type { JetStreamClient } from '@nats-io/jetstream';
import { headers } from '@nats-io/nats-core';
import { instrumentJetStream, processTask, publishTask } from '@tasklens/nats';
import { afterAll, describe, expect, it } from 'vitest';
import { startInMemoryTelemetry } from '@tasklens/test-utils';
import { useJetStreamBroker } from './support/jetstream-broker.js';

const telemetry = startInMemoryTelemetry();
const broker = useJetStreamBroker();

afterAll(async () => {
  await telemetry.shutdown();
});

function sendSpans() {
  return telemetry.spans().filter((span) => span.kind === SpanKind.PRODUCER);
}

describe('instrumentJetStream', () => {
  it('names the span after the stream, keeps the subject on it, and merges headers', async () => {
    const { stream, subjects } = await broker.newStream('instrument');
    const js: JetStreamClient = instrumentJetStream(jetstream(broker.nc));
    expect(instrumentJetStream(js)).toBe(js);
    const userHeaders = headers();
    userHeaders.set('x-tenant', 'acme');
    const subject = `${subjects}.order-42`;

    const ack = await js.publish(subject, 'payload', { headers: userHeaders, msgID: 'order-42' });

    expect(ack).toMatchObject({ stream, seq: 1, duplicate: false });
    expect(userHeaders.keys()).toEqual(['x-tenant']);
    const [span, ...others] = sendSpans();
    expect(others).toEqual([]);
    expect(span?.name).toBe(`send ${stream}`);
    expect(span?.attributes).toEqual({
      'task.name': stream,
      'task.id': 'order-42',
      'messaging.system': 'nats',
      'messaging.operation.type': 'send',
      'messaging.destination.name': subject,
      'messaging.message.id': 'order-42',
    });

    const consumer = await js.consumers.get(stream, 'worker');
    const msg = await consumer.next({ expires: 5000 });
    if (msg === null) throw new Error('no message');
    expect(msg.headers?.get('x-tenant')).toBe('acme');
    expect(msg.headers?.get('Nats-Msg-Id')).toBe('order-42');
    expect(msg.headers?.get('traceparent')).toBe(
      `00-${span?.spanContext().traceId}-${span?.spanContext().spanId}-01`,
    );
    expect(msg.headers?.get('tasklens-enqueued-at')).toMatch(/^\d+$/);
    await processTask(msg, (delivered) => delivered.ack());
    const [process] = telemetry.spans().filter((candidate) => candidate.kind === SpanKind.CONSUMER);
    expect(process?.parentSpanContext?.spanId).toBe(span?.spanContext().spanId);
  });

  it('uses the adapter queue and name for the span', async () => {
    const { subjects } = await broker.newStream('queue');
    telemetry.reset();
    const js = instrumentJetStream(jetstream(broker.nc), {
      queue: 'orders',
      taskName: 'place-order',
    });
    await js.publish(`${subjects}.1`);
    const [span] = sendSpans();
    expect(span?.name).toBe('send orders');
    expect(span?.attributes).toMatchObject({
      'task.name': 'place-order',
      'task.id': '1',
      'messaging.destination.name': `${subjects}.1`,
    });
  });
});

describe('publishTask', () => {
  it('creates one span, even on an instrumented client', async () => {
    const { stream, subjects } = await broker.newStream('explicit');
    telemetry.reset();
    const js = instrumentJetStream(jetstream(broker.nc));
    await publishTask(js, `${subjects}.a`, 'x', undefined, {
      taskName: (subject) => (subject.endsWith('.a') ? 'explicit-task' : 'other'),
    });
    const [span, ...others] = sendSpans();
    expect(others).toEqual([]);
    expect(span?.name).toBe(`send ${stream}`);
    expect(span?.attributes['task.name']).toBe('explicit-task');
  });

  it('marks a publish no stream takes as an error and rejects with the client error', async () => {
    telemetry.reset();
    const subject = `tl.nowhere.${process.pid}.${Date.now()}`;
    const error = await publishTask(
      jetstream(broker.nc),
      subject,
      'x',
      { timeout: 2000 },
      { name: 'lost-task' },
    ).catch((rejection: unknown) => rejection);
    expect(error).toBeInstanceOf(Error);
    const [span] = sendSpans();
    expect(span?.name).toBe(`send ${subject}`);
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.attributes['error.type']).toBe((error as Error).constructor.name);
  });
});
