/*
 * Queue depth gauges on the real NATS JetStream at 127.0.0.1:4222: a consumer's pending
 * (waiting) and ack-pending (active) messages from one consumer info request per interval,
 * registered by consumerTaskOptions; the on/off switch.
 */
import { consumerTaskOptions, processTask } from '@tasklens/nats';
import { queueDepthPollCounts, unwatchQueueDepth } from '@tasklens/core/adapter';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { eventually, queueDepthWhen, startInMemoryTelemetry } from '@tasklens/test-utils';
import type { QueueDepth } from '@tasklens/test-utils';
import { useJetStreamBroker } from './support/jetstream-broker.js';

const telemetry = startInMemoryTelemetry();
const broker = useJetStreamBroker();
const INTERVAL = { queueDepthIntervalMs: 100 };

afterEach(() => unwatchQueueDepth());
afterAll(() => telemetry.shutdown());

const depthWhen = (queue: string, what: string, check: (depth: QueueDepth) => boolean) =>
  queueDepthWhen(telemetry, 'nats', queue, what, check);

function pollCountOf(queue: string) {
  return queueDepthPollCounts().filter((count) => count.queue === queue);
}

async function publish(subjects: string, count: number): Promise<void> {
  for (let index = 0; index < count; index++) {
    await broker.js.publish(`${subjects}.job`, JSON.stringify({ index }));
  }
}

describe('JetStream queue depth', () => {
  it('reads the pending messages with no worker, the unacked ones, then 0 once drained', async () => {
    const { stream, subjects } = await broker.newStream('depth');
    await publish(subjects, 5);
    const consumer = await broker.js.consumers.get(stream, 'worker');
    const options = await consumerTaskOptions(consumer, INTERVAL);

    const backlog = await depthWhen(stream, '5 waiting', (depth) => depth.waiting === 5);
    expect(backlog).toMatchObject({ waiting: 5, active: 0 });
    expect(Object.keys(backlog).sort()).toEqual(['active', 'oldest_waiting_age', 'waiting']);
    const firstAge = backlog.oldest_waiting_age ?? 0;
    expect(firstAge).toBeGreaterThan(0);
    await depthWhen(
      stream,
      'an older oldest message',
      (depth) => (depth.oldest_waiting_age ?? 0) > firstAge,
    );

    const held = await consumer.next({ expires: 5000 });
    await depthWhen(stream, 'one unacked', (depth) => depth.waiting === 4 && depth.active === 1);
    held?.ack();
    // The age is now that of the second message: the first one after the last delivered.

    const messages = await consumer.fetch({ max_messages: 4, expires: 5000 });
    for await (const msg of messages) {
      await processTask(msg, (message) => message.ack(), options);
    }
    const drained = await depthWhen(
      stream,
      'drained',
      (depth) => depth.waiting === 0 && depth.active === 0,
    );
    expect(drained).toEqual({ waiting: 0, active: 0, oldest_waiting_age: 0 });
  });

  it('labels the gauges with the queue option; two requests per poll while messages wait', async () => {
    const { stream, subjects } = await broker.newStream('commands');
    await publish(subjects, 2);
    const requests: string[] = [];
    const request = broker.nc.request.bind(broker.nc);
    broker.nc.request = (subject, ...rest) => {
      if (subject.includes(stream)) requests.push(subject);
      return request(subject, ...rest);
    };
    try {
      await consumerTaskOptions(await broker.js.consumers.get(stream, 'worker'), {
        ...INTERVAL,
        queue: 'billing',
      });
      // A second registration of the same queue adds no poller.
      await consumerTaskOptions(await broker.js.consumers.get(stream, 'worker'), {
        ...INTERVAL,
        queue: 'billing',
      });
      await depthWhen('billing', '2 waiting', (depth) => depth.waiting === 2);
      await eventually('five polls', () =>
        Promise.resolve((pollCountOf('billing')[0]?.polls ?? 0) >= 5 || undefined),
      );
      expect(pollCountOf('billing')).toHaveLength(1);
      const [count] = pollCountOf('billing');
      unwatchQueueDepth('nats', 'billing');
      const polls = count?.polls ?? 0;
      const pollRequests = () =>
        requests.filter(
          (subject) =>
            subject.startsWith('$JS.API.STREAM.MSG.GET.') ||
            (subject.startsWith('$JS.API.CONSUMER.INFO.') && subject.endsWith('.worker')),
        );
      // consumerTaskOptions' own two info requests (consumers.get) are not polls.
      await eventually('two requests per poll', () =>
        Promise.resolve(pollRequests().length === 2 * polls + 2 || undefined),
      );
      const kinds = new Set(
        pollRequests().map((subject) => subject.split('.').slice(0, 4).join('.')),
      );
      expect(kinds).toEqual(new Set(['$JS.API.CONSUMER.INFO', '$JS.API.STREAM.MSG']));
      console.info(`nats queue depth: ${polls} polls, ${pollRequests().length - 2} requests`);
      expect(pollCountOf(stream)).toEqual([]);
    } finally {
      broker.nc.request = request;
    }
  });

  it('polls nothing with queueDepth off, or with TASKLENS_QUEUE_DEPTH=off', async () => {
    const { stream } = await broker.newStream('off');
    await consumerTaskOptions(await broker.js.consumers.get(stream, 'worker'), {
      queueDepth: false,
    });
    process.env.TASKLENS_QUEUE_DEPTH = 'off';
    try {
      await consumerTaskOptions(await broker.js.consumers.get(stream, 'worker'), INTERVAL);
    } finally {
      delete process.env.TASKLENS_QUEUE_DEPTH;
    }
    expect(pollCountOf(stream)).toEqual([]);
  });

  it('counts the failed polls of a deleted consumer, throwing nothing', async () => {
    const { stream } = await broker.newStream('deleted');
    await consumerTaskOptions(await broker.js.consumers.get(stream, 'worker'), INTERVAL);
    await depthWhen(stream, '0 waiting', (depth) => depth.waiting === 0);
    await broker.jsm.consumers.delete(stream, 'worker');
    await eventually('failed polls', () =>
      Promise.resolve((pollCountOf(stream)[0]?.failures ?? 0) >= 2 || undefined),
    );
  });
});
