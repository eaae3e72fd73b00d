/*
 * Queue depth gauges on the real Redis at 127.0.0.1:6379: waiting, active, delayed, failed and
 * the oldest waiting age of an instrumented queue, from the producer side and from the worker
 * side; two Redis commands per poll, one poll per queue per interval; the on/off switch.
 */
import { Redis } from 'ioredis';
import { FlowProducer } from 'bullmq';
import { instrumentFlowProducer, instrumentQueue } from '@tasklens/bullmq';
import { queueDepthPollCounts, unwatchQueueDepth } from '@tasklens/core/adapter';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { queueDepthWhen, requireRedis, startInMemoryTelemetry } from '@tasklens/test-utils';
import type { QueueDepth } from '@tasklens/test-utils';
import { cleanUp, onCleanup, openQueue, startWorker } from './support/harness.js';
import { connection, uniqueQueueName, waitUntil } from './support/queues.js';

const telemetry = startInMemoryTelemetry();
const INTERVAL = { queueDepthIntervalMs: 100 };

beforeAll(() => requireRedis());
afterEach(async () => {
  unwatchQueueDepth();
  await cleanUp();
});
afterAll(() => telemetry.shutdown());

const depthWhen = (queue: string, what: string, check: (depth: QueueDepth) => boolean) =>
  queueDepthWhen(telemetry, 'bullmq', queue, what, check);

function pollCountOf(queueName: string) {
  return queueDepthPollCounts().filter((count) => count.queue === queueName);
}

describe('BullMQ queue depth', () => {
  it('reads the backlog of a queue with no worker, a growing oldest age, then 0 once drained', async () => {
    const queueName = uniqueQueueName('depth');
    const queue = instrumentQueue(openQueue(queueName), INTERVAL);
    for (let index = 0; index < 5; index++) await queue.add('ok', { index });
    await queue.add('bad', {});
    await queue.add('later', {}, { delay: 3_600_000 });

    const first = await depthWhen(queueName, '6 waiting', (depth) => depth.waiting === 6);
    expect(first).toMatchObject({ waiting: 6, active: 0, delayed: 1, failed: 0 });
    expect(first.consumers).toBeUndefined();
    const firstAge = first.oldest_waiting_age ?? 0;
    expect(firstAge).toBeGreaterThan(0);
    await depthWhen(
      queueName,
      'an older oldest job',
      (depth) => (depth.oldest_waiting_age ?? 0) > firstAge,
    );

    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    startWorker(queueName, async (job) => {
      if (job.name === 'bad') throw new Error('bad job');
      if (job.name === 'hold') await held;
    });
    const drained = await depthWhen(queueName, 'drained', (depth) => depth.waiting === 0);
    expect(drained).toMatchObject({ waiting: 0, delayed: 1, failed: 1, oldest_waiting_age: 0 });

    await queue.add('hold', {});
    await depthWhen(queueName, 'one active', (depth) => depth.active === 1);
    release();
    await depthWhen(queueName, 'none active', (depth) => depth.active === 0);
    // Producer and worker of one queue in one process: one poller.
    expect(pollCountOf(queueName)).toHaveLength(1);
    expect(pollCountOf(queueName)[0]?.failures).toBe(0);
  });

  it('polls from the worker side alone, through the worker’s connection', async () => {
    const queueName = uniqueQueueName('worker-depth');
    const queue = openQueue(queueName);
    const worker = startWorker(queueName, () => Promise.resolve(), INTERVAL);
    await queue.add('first', {});
    await waitUntil(() => pollCountOf(queueName).length === 1, 'the worker to register');
    await worker.pause();
    for (let index = 0; index < 4; index++) await queue.add('ok', { index });
    await depthWhen(queueName, '4 waiting', (depth) => depth.waiting === 4);
    await worker.resume();
    await depthWhen(queueName, 'drained', (depth) => depth.waiting === 0 && depth.active === 0);
  });

  it('polls every queue an instrumented flow producer adds jobs to', async () => {
    const parentQueue = uniqueQueueName('flow-parent');
    const childQueue = uniqueQueueName('flow-child');
    const flows = instrumentFlowProducer(new FlowProducer({ connection }), INTERVAL);
    openQueue(parentQueue);
    openQueue(childQueue);
    onCleanup(() => flows.close());
    await flows.add({
      name: 'render',
      queueName: parentQueue,
      children: [
        { name: 'transcode', queueName: childQueue },
        { name: 'thumbnail', queueName: childQueue },
      ],
    });
    await depthWhen(childQueue, '2 waiting', (depth) => depth.waiting === 2);
    // The parent waits for its children, not for a worker.
    await depthWhen(parentQueue, 'read', (depth) => depth.waiting === 0 && depth.active === 0);
  });

  it('costs two Redis commands per poll, one poll per queue per interval', async () => {
    const queueName = uniqueQueueName('commands');
    const queue = openQueue(queueName);
    // The two scripts loaded once, so that no poll pays the NOSCRIPT round trip.
    await queue.getJobCounts('wait');
    await queue.getJobs(['wait'], 0, 0, true);
    const monitor = await new Redis(connection).monitor();
    const commands: string[] = [];
    const scripted: string[] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (!args.some((arg) => arg.includes(queueName))) return;
      (source === 'lua' ? scripted : commands).push(args[0]?.toLowerCase() ?? '');
    });
    try {
      instrumentQueue(queue, INTERVAL);
      instrumentQueue(openQueue(queueName), INTERVAL);
      await waitUntil(() => (pollCountOf(queueName)[0]?.polls ?? 0) >= 5, 'five polls');
      const [count] = pollCountOf(queueName);
      unwatchQueueDepth('bullmq', queueName);
      const polls = count?.polls ?? 0;
      // The last poll may still be under way: its commands arrive, no later one. (The second
      // Queue object writes the queue's meta hash once: not a poll.)
      const scriptCalls = () => commands.filter((command) => command === 'evalsha').length;
      await waitUntil(() => scriptCalls() === 2 * polls, `${2 * polls} script calls`);
      expect(commands.filter((command) => command !== 'evalsha' && command !== 'hset')).toEqual([]);
      // Printed for the README's cost table.
      console.info(
        `bullmq queue depth: ${polls} polls, ${scriptCalls()} commands ` +
          `(${scripted.length} Redis calls inside the scripts)`,
      );
    } finally {
      monitor.disconnect();
    }
  });

  it('polls nothing with queueDepth off, or with TASKLENS_QUEUE_DEPTH=off', async () => {
    const off = uniqueQueueName('off');
    instrumentQueue(openQueue(off), { queueDepth: false });
    const offByVariable = uniqueQueueName('off-variable');
    process.env.TASKLENS_QUEUE_DEPTH = 'off';
    try {
      instrumentQueue(openQueue(offByVariable), INTERVAL);
      let processed = 0;
      startWorker(offByVariable, () => Promise.resolve(processed++), INTERVAL);
      await openQueue(offByVariable).add('ok', {});
      await waitUntil(() => processed === 1, 'the job');
    } finally {
      delete process.env.TASKLENS_QUEUE_DEPTH;
    }
    expect(pollCountOf(off)).toEqual([]);
    expect(pollCountOf(offByVariable)).toEqual([]);
  });
});
