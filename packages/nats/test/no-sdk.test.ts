/*
 * With no OpenTelemetry SDK registered (this file registers none), the adapter only passes
 * messages through: publishes still carry the enqueue time, handlers run, settlements reach the
 * server.
 */
import { jetstream } from '@nats-io/jetstream';
import { instrumentJetStream, processTask } from '@tasklens/nats';
import { expect, it } from 'vitest';
import {
  connectJetStream,
  createStreamWithConsumer,
  uniqueStream,
} from './support/jetstream-broker.js';

it('publishes and processes messages with no SDK registered', async () => {
  const { nc, jsm } = await connectJetStream();
  const { stream, subjects } = uniqueStream('nosdk');
  try {
    await createStreamWithConsumer(jsm, stream, subjects);
    const js = instrumentJetStream(jetstream(nc));
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
    expect((await consumer.info()).num_ack_pending).toBe(0);
  } finally {
    await jsm.streams.delete(stream).catch(() => false);
    await nc.close();
  }
});
