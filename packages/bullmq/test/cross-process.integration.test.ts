/*
 * The cross-process claims: the producer runs in its own Node process (fixtures/producer.mjs, with
 * its own SDK), the worker here, both on the real Redis at 127.0.0.1:6379.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requireRedis, startInMemoryTelemetry } from '@tasklens/test-utils';
import { cleanUp, openQueue, startWorker } from './support/harness.js';
import { produce } from './support/producer-process.js';
import type { ProducedSpan } from './support/producer-process.js';
import { uniqueQueueName, waitUntil } from './support/queues.js';

const telemetry = startInMemoryTelemetry();

beforeAll(() => requireRedis());
afterEach(async () => {
  await cleanUp();
  telemetry.reset();
});
afterAll(() => telemetry.shutdown());

function processSpans(queueName: string): ReadableSpan[] {
  return telemetry
    .spans()
    .filter((span) => span.name === `process ${queueName}`)
    .sort((a, b) => Number(a.attributes['task.attempt']) - Number(b.attributes['task.attempt']));
}

async function pointsOf(metric: string, queueName: string) {
  return (await telemetry.metricPoints(metric)).filter(
    (point) => point.attributes['task.queue'] === queueName,
  );
}

function sendSpanOf(spans: ProducedSpan[], jobId: string): ProducedSpan {
  const span = spans.find((candidate) => candidate.attributes['messaging.message.id'] === jobId);
  if (span === undefined) throw new Error(`no send span for job ${jobId}`);
  return span;
}

describe('a job added in another process', () => {
  it('is processed in the producer trace, under its send span, and measured', async () => {
    const queueName = uniqueQueueName('parent');
    const queue = openQueue(queueName);
    const seen: unknown[] = [];
    const produced = await produce({
      queue: queueName,
      action: 'add',
      jobs: [{ name: 'send-email', data: { to: 'ada@example.com' } }],
    });
    const jobId = produced.jobIds[0];
    startWorker(queueName, (job) => {
      seen.push(job.data);
      return Promise.resolve({ sent: true });
    });
    await waitUntil(
      async () => (await queue.getJob(jobId))?.finishedOn !== undefined,
      'the job to complete',
    );

    const send = produced.spans[0];
    expect(produced.spans).toHaveLength(1);
    expect(send).toMatchObject({
      name: `send ${queueName}`,
      kind: SpanKind.PRODUCER,
      attributes: {
        'task.name': 'send-email',
        'task.id': jobId,
        'messaging.system': 'bullmq',
        'messaging.destination.name': queueName,
        'messaging.operation.type': 'send',
        'messaging.message.id': jobId,
      },
    });
    expect(send.parentSpanId).toBeUndefined();
    const [span] = processSpans(queueName);
    expect(processSpans(queueName)).toHaveLength(1);
    expect(span.kind).toBe(SpanKind.CONSUMER);
    expect(span.spanContext().traceId).toBe(send.traceId);
    expect(span.parentSpanContext?.spanId).toBe(send.spanId);
    expect(span.links).toEqual([]);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes).toEqual({
      'task.name': 'send-email',
      'task.attempt': 1,
      'task.max_attempts': 1,
      'task.id': jobId,
      'task.outcome': 'success',
      'task.wait.duration': expect.any(Number) as number,
      'messaging.system': 'bullmq',
      'messaging.operation.type': 'process',
      'messaging.message.id': jobId,
      'messaging.destination.name': queueName,
    });
    expect(span.attributes['task.wait.duration']).toBeGreaterThan(0);

    // What BullMQ and the processor see is untouched.
    expect(seen).toEqual([{ to: 'ada@example.com' }]);
    const job = await queue.getJob(jobId);
    expect(job?.returnvalue).toEqual({ sent: true });
    expect(await job?.getState()).toBe('completed');

    const labels = {
      'task.name': 'send-email',
      'task.queue': queueName,
      'messaging.system': 'bullmq',
    };
    expect(await pointsOf('task.duration', queueName)).toEqual([
      expect.objectContaining({ attributes: { ...labels, 'task.outcome': 'success' }, count: 1 }),
    ]);
    expect(await pointsOf('task.wait.duration', queueName)).toEqual([
      expect.objectContaining({ attributes: labels, count: 1 }),
    ]);
    expect(await pointsOf('task.active', queueName)).toEqual([
      { attributes: { 'task.name': 'send-email', 'task.queue': queueName }, value: 0 },
    ]);
    expect(await pointsOf('task.retries', queueName)).toEqual([]);
  });

  it('starts a new trace linked to the producer in link mode', async () => {
    const queueName = uniqueQueueName('link');
    openQueue(queueName);
    const produced = await produce({
      queue: queueName,
      action: 'add',
      jobs: [{ name: 'fan-out', data: {} }],
    });
    startWorker(queueName, () => Promise.resolve(), { traceMode: 'link' });
    await waitUntil(() => processSpans(queueName).length === 1, 'the process span');

    const send = produced.spans[0];
    const span = processSpans(queueName)[0];
    expect(span.spanContext().traceId).not.toBe(send.traceId);
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.links.map((link) => link.context)).toEqual([
      expect.objectContaining({ traceId: send.traceId, spanId: send.spanId }),
    ]);
  });

  it('counts a delayed job as waiting from when it became due, not from when it was added', async () => {
    const queueName = uniqueQueueName('delayed');
    const queue = openQueue(queueName);
    const delay = 500;
    const produced = await produce({
      queue: queueName,
      action: 'add',
      jobs: [{ name: 'remind', data: {}, opts: { delay } }],
    });
    startWorker(queueName, () => Promise.resolve());
    await waitUntil(() => processSpans(queueName).length === 1, 'the process span');

    const job = await queue.getJob(produced.jobIds[0]);
    const span = processSpans(queueName)[0];
    const startedAtMs = span.startTime[0] * 1000 + span.startTime[1] / 1e6;
    const dueAtMs = job!.timestamp + delay;
    const waitMs = Number(span.attributes['task.wait.duration']) * 1000;
    // The job ran no earlier than it was due, and its wait is the time since then.
    expect(startedAtMs).toBeGreaterThanOrEqual(dueAtMs);
    expect(startedAtMs - job!.timestamp).toBeGreaterThanOrEqual(delay);
    expect(waitMs).toBeGreaterThanOrEqual(0);
    expect(Math.abs(waitMs - (startedAtMs - dueAtMs))).toBeLessThan(50);
    expect(span.spanContext().traceId).toBe(produced.spans[0].traceId);
    const [wait] = await pointsOf('task.wait.duration', queueName);
    expect(wait?.count).toBe(1);
    expect(wait?.sum).toBeCloseTo(waitMs / 1000, 6);
  });

  it('gives a job failing three times three ERROR spans, two of them retrying, and counts the retries', async () => {
    const queueName = uniqueQueueName('failing');
    const queue = openQueue(queueName);
    const produced = await produce({
      queue: queueName,
      action: 'add',
      jobs: [
        {
          name: 'charge-card',
          data: { amount: 42 },
          opts: { attempts: 3, backoff: { type: 'fixed', delay: 50 } },
        },
      ],
    });
    const jobId = produced.jobIds[0];
    startWorker(queueName, () => Promise.reject(new TypeError('card declined')));
    await waitUntil(
      async () => (await queue.getJob(jobId))?.finishedOn !== undefined,
      'the job to fail for good',
    );

    const send = produced.spans[0];
    const spans = processSpans(queueName);
    expect(spans.map((span) => span.attributes['task.attempt'])).toEqual([1, 2, 3]);
    expect(spans.map((span) => span.attributes['task.retrying'])).toEqual([true, true, undefined]);
    for (const span of spans) {
      expect(span.spanContext().traceId).toBe(send.traceId);
      expect(span.parentSpanContext?.spanId).toBe(send.spanId);
      expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'card declined' });
      expect(span.attributes).toMatchObject({
        'error.type': 'TypeError',
        'task.outcome': 'failure',
        'task.max_attempts': 3,
        'messaging.message.id': jobId,
      });
      expect(span.events.map((event) => event.name)).toEqual(['exception']);
    }
    // Only the first attempt waited in the queue as a new job.
    expect(spans.map((span) => span.attributes['task.wait.duration'] !== undefined)).toEqual([
      true,
      false,
      false,
    ]);

    const job = await queue.getJob(jobId);
    expect(await job?.getState()).toBe('failed');
    expect(job?.attemptsMade).toBe(3);
    expect(job?.failedReason).toBe('card declined');

    const labels = {
      'task.name': 'charge-card',
      'task.queue': queueName,
      'messaging.system': 'bullmq',
    };
    expect(await pointsOf('task.duration', queueName)).toEqual([
      expect.objectContaining({
        attributes: { ...labels, 'task.outcome': 'failure', 'error.type': 'TypeError' },
        count: 3,
      }),
    ]);
    expect(await pointsOf('task.retries', queueName)).toEqual([
      { attributes: { 'task.name': 'charge-card', 'task.queue': queueName }, value: 2 },
    ]);
    expect(await pointsOf('task.wait.duration', queueName)).toEqual([
      expect.objectContaining({ attributes: labels, count: 1 }),
    ]);
    expect(await pointsOf('task.active', queueName)).toEqual([
      { attributes: { 'task.name': 'charge-card', 'task.queue': queueName }, value: 0 },
    ]);
  });

  it('runs each run of a job scheduler in a new trace linked to the scheduling span', async () => {
    const queueName = uniqueQueueName('scheduler');
    const queue = openQueue(queueName);
    const schedulerId = `${queueName}-every`;
    const produced = await produce({
      queue: queueName,
      action: 'scheduler',
      schedulerId,
      repeat: { every: 200, limit: 3 },
      template: { name: 'refresh-cache', data: { region: 'eu' } },
    });
    const seen: unknown[] = [];
    startWorker(queueName, (job) => {
      seen.push(job.data);
      return Promise.resolve();
    });
    await waitUntil(() => processSpans(queueName).length === 3, 'three runs');
    await queue.removeJobScheduler(schedulerId);

    const schedule = produced.spans[0];
    expect(produced.spans).toHaveLength(1);
    expect(schedule).toMatchObject({
      name: `send ${queueName}`,
      kind: SpanKind.PRODUCER,
      attributes: {
        'task.name': 'refresh-cache',
        'bullmq.job_scheduler.id': schedulerId,
        'messaging.message.id': produced.jobIds[0],
      },
    });
    const spans = processSpans(queueName);
    const traceIds = new Set(spans.map((span) => span.spanContext().traceId));
    expect(traceIds.size).toBe(3);
    expect(traceIds.has(schedule.traceId)).toBe(false);
    for (const span of spans) {
      expect(span.parentSpanContext).toBeUndefined();
      expect(span.links.map((link) => link.context)).toEqual([
        expect.objectContaining({ traceId: schedule.traceId, spanId: schedule.spanId }),
      ]);
      expect(span.attributes).toMatchObject({
        'task.name': 'refresh-cache',
        'task.attempt': 1,
        'task.outcome': 'success',
        'bullmq.job_scheduler.id': schedulerId,
      });
      expect(span.attributes['task.wait.duration']).toBeGreaterThanOrEqual(0);
    }
    expect(seen).toEqual([{ region: 'eu' }, { region: 'eu' }, { region: 'eu' }]);
    const [wait] = await pointsOf('task.wait.duration', queueName);
    expect(wait?.count).toBe(3);
    // Each run is a task chain of its own, from when it was due (not from the scheduling call,
    // whose carrier every run's job holds): its pipeline is its wait plus its duration.
    const [duration] = await pointsOf('task.duration', queueName);
    const [pipeline] = await pointsOf('task.pipeline.duration', queueName);
    expect(pipeline?.count).toBe(3);
    expect(pipeline?.sum).toBeLessThanOrEqual((wait?.sum ?? 0) + (duration?.sum ?? 0) + 0.01);
  });

  it('keeps a flow in one trace: child send spans under the flow send span, each process span under its send span', async () => {
    const parentQueue = uniqueQueueName('flow-parent');
    const childQueue = uniqueQueueName('flow-child');
    const parents = openQueue(parentQueue);
    openQueue(childQueue);
    const produced = await produce({
      action: 'flow',
      flow: {
        name: 'assemble-report',
        queueName: parentQueue,
        data: { report: 7 },
        children: [
          { name: 'fetch-part', queueName: childQueue, data: { part: 1 } },
          { name: 'fetch-part', queueName: childQueue, data: { part: 2 } },
        ],
      },
    });
    const [parentId, ...childIds] = produced.jobIds;
    startWorker(childQueue, (job) => Promise.resolve((job.data as { part: number }).part * 10));
    startWorker(parentQueue, async (job) => {
      const values = await job.getChildrenValues<number>();
      return Object.values(values).reduce((sum, value) => sum + value, 0);
    });
    await waitUntil(
      async () => (await parents.getJob(parentId))?.finishedOn !== undefined,
      'the flow to complete',
    );
    expect((await parents.getJob(parentId))?.returnvalue).toBe(30);

    const root = sendSpanOf(produced.spans, parentId);
    expect(produced.spans).toHaveLength(3);
    expect(root.name).toBe(`send ${parentQueue}`);
    expect(root.parentSpanId).toBeUndefined();
    for (const childId of childIds) {
      const childSend = sendSpanOf(produced.spans, childId);
      expect(childSend).toMatchObject({
        name: `send ${childQueue}`,
        kind: SpanKind.PRODUCER,
        traceId: root.traceId,
        parentSpanId: root.spanId,
        attributes: { 'task.name': 'fetch-part' },
      });
      const childProcess = processSpans(childQueue).find(
        (span) => span.attributes['messaging.message.id'] === childId,
      );
      expect(childProcess?.spanContext().traceId).toBe(root.traceId);
      expect(childProcess?.parentSpanContext?.spanId).toBe(childSend.spanId);
    }
    const [parentProcess] = processSpans(parentQueue);
    expect(parentProcess?.spanContext().traceId).toBe(root.traceId);
    expect(parentProcess?.parentSpanContext?.spanId).toBe(root.spanId);
    expect(parentProcess?.attributes['task.name']).toBe('assemble-report');
  });

  it('processes jobs of an uninstrumented producer as new traces, still measured', async () => {
    const queueName = uniqueQueueName('plain');
    openQueue(queueName);
    await produce({
      queue: queueName,
      action: 'add-plain',
      jobs: [{ name: 'legacy-job', data: { n: 1 } }],
    });
    startWorker(queueName, () => Promise.resolve());
    await waitUntil(() => processSpans(queueName).length === 1, 'the process span');

    const span = processSpans(queueName)[0];
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.links).toEqual([]);
    expect(span.attributes['task.outcome']).toBe('success');
    expect(span.attributes['task.wait.duration']).toBeGreaterThan(0);
    const labels = {
      'task.name': 'legacy-job',
      'task.queue': queueName,
      'messaging.system': 'bullmq',
    };
    expect(await pointsOf('task.duration', queueName)).toEqual([
      expect.objectContaining({ attributes: { ...labels, 'task.outcome': 'success' }, count: 1 }),
    ]);
    expect(await pointsOf('task.wait.duration', queueName)).toEqual([
      expect.objectContaining({ attributes: labels, count: 1 }),
    ]);
  });

  it('adds jobs in bulk with one send span each', async () => {
    const queueName = uniqueQueueName('bulk');
    const queue = openQueue(queueName);
    const produced = await produce({
      queue: queueName,
      action: 'add-bulk',
      jobs: [
        { name: 'resize', data: { id: 1 } },
        { name: 'resize', data: { id: 2 } },
        { name: 'thumbnail', data: { id: 3 } },
      ],
    });
    startWorker(queueName, () => Promise.resolve());
    await waitUntil(() => processSpans(queueName).length === 3, 'three process spans');

    expect(produced.spans).toHaveLength(3);
    expect(new Set(produced.spans.map((span) => span.traceId)).size).toBe(3);
    for (const jobId of produced.jobIds) {
      const send = sendSpanOf(produced.spans, jobId);
      const span = processSpans(queueName).find(
        (candidate) => candidate.attributes['messaging.message.id'] === jobId,
      );
      expect(span?.parentSpanContext?.spanId).toBe(send.spanId);
      expect(span?.attributes['task.name']).toBe(send.attributes['task.name']);
      const job = await queue.getJob(jobId);
      expect(Object.keys(job?.data as object)).toEqual(['id']);
    }
  });
});
