/*
 * processTask against the real JetStream server, producer and worker in this process: thrown
 * errors, auto-ack, settle timeout and working(), ack policies, and every delivery API.
 */
import { SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { AckPolicy } from '@nats-io/jetstream';
import type { JsMsg } from '@nats-io/jetstream';
import { createInbox } from '@nats-io/nats-core';
import { consumerTaskOptions, JetStreamTermError, processTask } from '@tasklens/nats';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { startInMemoryTelemetry } from '@tasklens/test-utils';
import { useJetStreamBroker } from './support/jetstream-broker.js';

const telemetry = startInMemoryTelemetry();
const broker = useJetStreamBroker();

afterAll(async () => {
  await telemetry.shutdown();
});

async function streamWithMessages(label: string, count = 1, maxDeliver = 5) {
  const names = await broker.newStream(label, { max_deliver: maxDeliver });
  for (let i = 0; i < count; i++)
    await broker.js.publish(`${names.subjects}.job`, JSON.stringify({ i }));
  return names;
}

async function nextMessage(stream: string, consumerName = 'worker'): Promise<JsMsg> {
  const consumer = await broker.js.consumers.get(stream, consumerName);
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

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

class PaymentDeclined extends Error {}

describe('a handler that throws', () => {
  it('records the error, rejects with it, and with autoAck naks so the retry succeeds', async () => {
    const { stream } = await streamWithMessages('throws');
    const options = await consumerTaskOptions(await broker.js.consumers.get(stream, 'worker'), {
      autoAck: true,
    });
    const declined = new PaymentDeclined('card declined');
    await expect(
      processTask(
        await nextMessage(stream),
        () => {
          throw declined;
        },
        options,
      ),
    ).rejects.toBe(declined);
    const value = await processTask(await nextMessage(stream), () => 'charged', options);

    expect(value).toBe('charged');
    const [failed, succeeded] = processSpans(stream);
    expect(failed?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'card declined' });
    expect(failed?.attributes).toMatchObject({
      'task.attempt': 1,
      'task.outcome': 'failure',
      'task.retrying': true,
      'error.type': 'PaymentDeclined',
    });
    expect(failed?.events[0]?.attributes?.['exception.message']).toBe('card declined');
    expect(succeeded?.attributes).toMatchObject({ 'task.attempt': 2, 'task.outcome': 'success' });
    const consumer = await broker.js.consumers.get(stream, 'worker');
    await vi.waitFor(async () => expect((await consumer.info()).num_ack_pending).toBe(0));
  });

  it('without autoAck leaves the message to the ack wait and counts a retry', async () => {
    const { stream } = await streamWithMessages('throws-unsettled');
    await expect(
      processTask(await nextMessage(stream), () => Promise.reject(new PaymentDeclined('no'))),
    ).rejects.toThrow('no');
    const [span] = processSpans(stream);
    expect(span?.attributes).toMatchObject({
      'task.outcome': 'failure',
      'task.retrying': true,
      'error.type': 'PaymentDeclined',
    });
  });
});

describe('settlement', () => {
  it('ends an attempt the handler left unsettled after settleTimeoutMs, aborting its signal', async () => {
    const { stream } = await streamWithMessages('timeout');
    const msg = await nextMessage(stream);
    let signal: AbortSignal | undefined;
    await processTask(
      msg,
      (_msg, task) => {
        signal = task.signal;
      },
      { settleTimeoutMs: 200 },
    );
    expect(processSpans(stream)).toEqual([]);

    await vi.waitFor(() => expect(processSpans(stream)).toHaveLength(1), { timeout: 5000 });
    msg.ack();
    const [span, ...others] = processSpans(stream);
    expect(others).toEqual([]);
    expect(span?.attributes).toMatchObject({
      'task.outcome': 'timeout',
      'task.retrying': true,
      'error.type': 'TaskTimeoutError',
    });
    expect(signal?.aborted).toBe(true);
  });

  it('keeps an attempt open while the handler calls working(), until a late ack', async () => {
    const { stream } = await streamWithMessages('working');
    const msg = await nextMessage(stream);
    await processTask(
      msg,
      async (delivered) => {
        await delay(1000);
        delivered.working();
        await delay(1000);
        delivered.working();
      },
      { settleTimeoutMs: 1500 },
    );
    await delay(300);
    expect(processSpans(stream)).toEqual([]);
    msg.ack();

    const [span] = processSpans(stream);
    expect(span?.attributes['task.outcome']).toBe('success');
  });

  it('ends when the handler does under AckPolicy none, and for ordered consumers', async () => {
    const { stream } = await streamWithMessages('ack-none', 2);
    await broker.jsm.consumers.add(stream, { durable_name: 'no-acks', ack_policy: AckPolicy.None });
    const noAcks = await broker.js.consumers.get(stream, 'no-acks');
    const options = await consumerTaskOptions(noAcks);
    expect(options.ackPolicy).toBe('none');
    await processTask(await nextMessage(stream, 'no-acks'), () => undefined, options);

    const ordered = await broker.js.consumers.get(stream);
    const orderedOptions = await consumerTaskOptions(ordered);
    expect(orderedOptions.ackPolicy).toBe('none');
    const msg = await ordered.next({ expires: 5000 });
    if (msg === null) throw new Error('no message for the ordered consumer');
    await processTask(msg, () => undefined, orderedOptions);

    const spans = processSpans(stream);
    expect(spans.map((span) => span.attributes['task.outcome'])).toEqual(['success', 'success']);
  });

  it('counts a term declared as expected as a success', async () => {
    const { stream } = await streamWithMessages('expected-term');
    await processTask(await nextMessage(stream), (msg) => msg.term('duplicate order'), {
      expectedErrors: [JetStreamTermError],
    });
    const [span] = processSpans(stream);
    expect(span?.attributes).toMatchObject({
      'task.outcome': 'success',
      'task.expected_error': true,
    });
  });
  it('processTask nested on one message: one ack reaches the server and ends both attempts', async () => {
    const { stream } = await streamWithMessages('nested');
    const msg = await nextMessage(stream);
    const value = await processTask(
      msg,
      (outer) =>
        // The former option name still works.
        processTask(
          outer,
          (inner) => {
            inner.ack();
            inner.ack();
            return 'done';
          },
          { name: 'inner' },
        ),
      { taskName: (delivered) => `outer-${delivered.info.stream === stream ? 'ok' : 'other'}` },
    );

    expect(value).toBe('done');
    const spans = processSpans(stream);
    expect(spans.map((span) => span.attributes['task.name']).sort()).toEqual(['inner', 'outer-ok']);
    for (const span of spans) expect(span.attributes['task.settlement']).toBe('ack');
    for (const span of spans) expect(span.attributes['task.outcome']).toBe('success');
    const consumer = await broker.js.consumers.get(stream, 'worker');
    await vi.waitFor(async () => expect((await consumer.info()).num_ack_pending).toBe(0));
  });
});

describe('delivery APIs', () => {
  it('instruments fetch(), consume() with a callback and push consumers alike', async () => {
    const { stream, subjects } = await streamWithMessages('apis', 2);
    await broker.jsm.consumers.add(stream, {
      durable_name: 'callback',
      ack_policy: AckPolicy.Explicit,
    });
    await broker.jsm.consumers.add(stream, {
      durable_name: 'push',
      ack_policy: AckPolicy.Explicit,
      deliver_subject: createInbox(),
    });
    const handled: string[] = [];
    const handler = (via: string) => (msg: JsMsg) => {
      handled.push(via);
      msg.ack();
    };

    const fetched = await (
      await broker.js.consumers.get(stream, 'worker')
    ).fetch({
      max_messages: 2,
      expires: 5000,
    });
    for await (const msg of fetched) await processTask(msg, handler('fetch'));

    let callbacks = 0;
    const callbackMessages = await (
      await broker.js.consumers.get(stream, 'callback')
    ).consume({
      callback: (msg) => {
        void processTask(msg, handler('callback')).finally(() => {
          if (++callbacks === 2) void callbackMessages.close();
        });
      },
    });
    await callbackMessages.closed();

    const pushed = await (await broker.js.consumers.getPushConsumer(stream, 'push')).consume();
    let pushes = 0;
    for await (const msg of pushed) {
      await processTask(msg, handler('push'));
      if (++pushes === 2) break;
    }

    expect(handled.sort()).toEqual(['callback', 'callback', 'fetch', 'fetch', 'push', 'push']);
    const spans = processSpans(stream);
    expect(spans).toHaveLength(6);
    expect(new Set(spans.map((span) => span.attributes['messaging.consumer.group.name']))).toEqual(
      new Set(['worker', 'callback', 'push']),
    );
    for (const span of spans) {
      expect(span.attributes).toMatchObject({
        'task.outcome': 'success',
        'messaging.destination.name': `${subjects}.job`,
      });
    }
  });
});
