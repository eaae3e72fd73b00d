/*
 * With no OpenTelemetry SDK registered (this file registers none), the adapter only passes
 * messages through: publishes still carry the enqueue time, handlers run, settlements reach the
 * server, autoAck settles what the handler left unsettled, exactly as with an SDK.
 */
import { jetstream } from '@nats-io/jetstream';
import { instrumentJetStream, processTask } from '@tasklens/nats';
import { isTelemetryActive } from '@tasklens/core';
import { expect, it, vi } from 'vitest';
import { useJetStreamBroker } from './support/jetstream-broker.js';

const broker = useJetStreamBroker();

it('publishes and processes messages with no SDK registered', async () => {
  const { stream, subjects } = await broker.newStream('nosdk');
  const js = instrumentJetStream(jetstream(broker.nc));
  await js.publish(`${subjects}.job`, JSON.stringify({ n: 1 }));

  const consumer = await js.consumers.get(stream, 'worker');
  const msg = await consumer.next({ expires: 5000 });
  if (msg === null) throw new Error('no message');
  expect(msg.headers?.get('tasklens-enqueued-at')).toMatch(/^\d+$/);
  expect(msg.headers?.has('traceparent')).toBe(false);
  const value = await processTask(msg, (delivered, task) => {
    delivered.ack();
    return { n: delivered.json<{ n: number }>().n, attempt: task.attempt };
  });

  expect(value).toEqual({ n: 1, attempt: 1 });
  // ack() is a fire-and-forget publish: the server takes note of it shortly after.
  await vi.waitFor(async () => expect((await consumer.info()).num_ack_pending).toBe(0));
});

it('with autoAck naks a handler that throws, acks one that resolves, and leaves settled ones be', async () => {
  expect(isTelemetryActive()).toBe(false);
  const { stream, subjects } = await broker.newStream('nosdk_autoack', { max_deliver: 5 });
  const js = jetstream(broker.nc);
  await js.publish(`${subjects}.job`, 'first');
  await js.publish(`${subjects}.job`, 'second');
  const consumer = await js.consumers.get(stream, 'worker');
  const next = async () => {
    const msg = await consumer.next({ expires: 5000 });
    if (msg === null) throw new Error('no message');
    return msg;
  };

  const failure = new Error('handler failed');
  const first = await next();
  expect(first.string()).toBe('first');
  await expect(
    processTask(
      first,
      () => {
        throw failure;
      },
      { autoAck: true },
    ),
  ).rejects.toBe(failure);
  // The nak makes the broker redeliver it at once: attempt 2, read from the delivery count. The
  // nak is a publish without a reply: a flush makes sure the server has it before the next pull,
  // which would otherwise race it and get 'second' first.
  await broker.nc.flush();
  const redelivered = await next();
  expect(redelivered.string()).toBe('first');
  const seen = await processTask(redelivered, (_msg, task) => Promise.resolve(task.attempt), {
    autoAck: true,
  });
  expect(seen).toBe(2);

  // A handler that terms its message: autoAck adds nothing, the message is not redelivered.
  const second = await next();
  const terms = await processTask(
    second,
    (delivered, task) => {
      delivered.term();
      return { aborted: task.signal.aborted, recording: task.span.isRecording() };
    },
    { autoAck: true },
  );
  expect(terms).toEqual({ aborted: false, recording: false });
  expect(await consumer.next({ expires: 1000 })).toBeNull();
  const info = await consumer.info();
  expect(info.num_ack_pending).toBe(0);
  expect(info.num_pending).toBe(0);
});
