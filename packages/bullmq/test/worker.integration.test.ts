/*
 * Worker-side behaviour on the real Redis at 127.0.0.1:6379: hostile carriers, concurrency,
 * stalled jobs (a worker process killed mid-job), BullMQ's own errors, pass-through.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { DelayedError, UnrecoverableError } from 'bullmq';
import type { Job } from 'bullmq';
import { instrumentQueue, taskProcessor } from '@tasklens/bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requireRedis, startInMemoryTelemetry } from '@tasklens/test-utils';
import { cleanUp, onCleanup, openQueue, startWorker } from './support/harness.js';
import { uniqueQueueName, waitUntil } from './support/queues.js';

const telemetry = startInMemoryTelemetry();
const STALLING_WORKER = fileURLToPath(new URL('./fixtures/stalling-worker.mjs', import.meta.url));

beforeAll(() => requireRedis());
afterEach(async () => {
  await cleanUp();
  telemetry.reset();
});
afterAll(() => telemetry.shutdown());

function processSpans(queueName: string): ReadableSpan[] {
  return telemetry.spans().filter((span) => span.name === `process ${queueName}`);
}

async function pointsOf(metric: string, queueName: string) {
  return (await telemetry.metricPoints(metric)).filter(
    (point) => point.attributes['task.queue'] === queueName,
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('taskProcessor', () => {
  it('processes jobs with hostile carriers as new root traces, measured, and counts the rejects', async () => {
    const queueName = uniqueQueueName('hostile');
    const queue = openQueue(queueName);
    const hostile = [
      'not json',
      '[1,2]',
      JSON.stringify({ traceparent: '00-zzzz-zzzz-01' }),
      JSON.stringify({ traceparent: 'x'.repeat(9000) }),
      JSON.stringify({ traceparent: 5 }),
      'x'.repeat(40_000),
    ];
    for (const metadata of hostile) {
      await queue.add('import-row', { ok: true }, { telemetry: { metadata } });
    }
    startWorker(queueName, () => Promise.resolve('done'));
    await waitUntil(() => processSpans(queueName).length === hostile.length, 'every job');

    for (const span of processSpans(queueName)) {
      expect(span.parentSpanContext).toBeUndefined();
      expect(span.links).toEqual([]);
      expect(span.attributes['task.outcome']).toBe('success');
    }
    expect(await queue.getCompletedCount()).toBe(hostile.length);
    expect(await pointsOf('task.duration', queueName)).toEqual([
      expect.objectContaining({ count: hostile.length }),
    ]);
    const rejected = (await telemetry.metricPoints('task.carrier.rejected')).filter(
      (point) => point.attributes['task.name'] === 'import-row',
    );
    expect(rejected).toEqual([
      { attributes: { reason: 'malformed-traceparent', 'task.name': 'import-row' }, value: 1 },
      { attributes: { reason: 'non-string-value', 'task.name': 'import-row' }, value: 1 },
      { attributes: { reason: 'not-an-object', 'task.name': 'import-row' }, value: 3 },
      { attributes: { reason: 'oversized', 'task.name': 'import-row' }, value: 1 },
    ]);
  });

  it('keeps each job context apart at concurrency 10', async () => {
    const queueName = uniqueQueueName('concurrency');
    const queue = instrumentQueue(openQueue(queueName));
    const tracer = trace.getTracer('concurrency-test');
    const jobCount = 30;
    for (let index = 0; index < jobCount; index += 1) {
      await queue.add('crunch', { index });
    }
    startWorker(
      queueName,
      async (job) => {
        await sleep((Number(job.id) * 7) % 25);
        await tracer.startActiveSpan('step', async (step) => {
          step.setAttribute('job.id', String(job.id));
          await sleep((Number(job.id) * 13) % 20);
          await tracer.startActiveSpan('inner', async (inner) => {
            inner.setAttribute('job.id', String(job.id));
            await sleep(1);
            inner.end();
          });
          step.end();
        });
      },
      {},
      { concurrency: 10 },
    );
    await waitUntil(() => processSpans(queueName).length === jobCount, 'every job');

    const byJob = new Map(
      processSpans(queueName).map((span) => [span.attributes['messaging.message.id'], span]),
    );
    const steps = telemetry.spans().filter((span) => span.name === 'step');
    expect(steps).toHaveLength(jobCount);
    expect(new Set(processSpans(queueName).map((s) => s.spanContext().traceId)).size).toBe(
      jobCount,
    );
    for (const step of steps) {
      const owner = byJob.get(step.attributes['job.id'])!;
      expect(step.parentSpanContext?.spanId).toBe(owner.spanContext().spanId);
      expect(step.spanContext().traceId).toBe(owner.spanContext().traceId);
    }
    for (const inner of telemetry.spans().filter((span) => span.name === 'inner')) {
      const step = steps.find(
        (candidate) => candidate.attributes['job.id'] === inner.attributes['job.id'],
      )!;
      expect(inner.parentSpanContext?.spanId).toBe(step.spanContext().spanId);
    }
    expect(await pointsOf('task.active', queueName)).toEqual([
      { attributes: { 'task.name': 'crunch', 'task.queue': queueName }, value: 0 },
    ]);
  });

  it('records the attempt lost with its dead worker as lost (stalled), and measures attempt 2', async () => {
    const queueName = uniqueQueueName('stalled');
    const queue = instrumentQueue(openQueue(queueName));
    const child = spawn(process.execPath, [STALLING_WORKER, queueName], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    onCleanup(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await sleep(0);
    });
    let childOutput = '';
    child.stdout.on('data', (data: Buffer) => (childOutput += data.toString()));
    const job = await queue.add('long-export', { size: 3 });
    await waitUntil(() => childOutput.includes(`started ${job.id}`), 'the child worker to start');
    child.kill('SIGKILL');

    startWorker(queueName, () => Promise.resolve('exported'), {}, { stalledInterval: 300 });
    await waitUntil(() => processSpans(queueName).length === 2, 'the job to run again', 20_000);
    await waitUntil(
      async () => (await queue.getJob(job.id!))?.finishedOn !== undefined,
      'the job to complete',
    );

    const [lost, span] = processSpans(queueName);
    const done = await queue.getJob(job.id!);
    expect(done?.stalledCounter).toBe(1);
    expect(done?.returnvalue).toBe('exported');
    expect(span.attributes).toMatchObject({
      'task.attempt': 2,
      'task.outcome': 'success',
      'messaging.message.id': job.id,
    });
    // A restart is no new wait in the queue: BullMQ does not keep when it became due.
    expect(span.attributes['task.wait.duration']).toBeUndefined();
    expect(lost.attributes).toMatchObject({
      'task.attempt': 1,
      'task.outcome': 'lost',
      'error.type': 'stalled',
      'task.lost.start_estimated': true,
      'task.lost.end_estimated': true,
      'messaging.message.id': job.id,
    });
    expect(lost.status.code).toBe(SpanStatusCode.ERROR);
    expect(lost.parentSpanContext?.spanId).toBe(span.parentSpanContext?.spanId);
    expect(await pointsOf('task.duration', queueName)).toEqual([
      expect.objectContaining({ count: 1 }),
      expect.objectContaining({ count: 1 }),
    ]);
  });

  it('does not mark an UnrecoverableError as retrying, and BullMQ fails the job at once', async () => {
    const queueName = uniqueQueueName('unrecoverable');
    const queue = openQueue(queueName);
    const job = await queue.add('parse-feed', {}, { attempts: 3 });
    startWorker(queueName, () => Promise.reject(new UnrecoverableError('feed is gone')));
    await waitUntil(
      async () => (await queue.getJob(job.id!))?.finishedOn !== undefined,
      'the job to fail',
    );

    const spans = processSpans(queueName);
    expect(spans).toHaveLength(1);
    expect(spans[0].attributes).toMatchObject({
      'task.attempt': 1,
      'task.max_attempts': 3,
      'task.outcome': 'failure',
      'error.type': 'UnrecoverableError',
    });
    expect(spans[0].attributes['task.retrying']).toBeUndefined();
    expect(await (await queue.getJob(job.id!))?.getState()).toBe('failed');
    expect(await pointsOf('task.retries', queueName)).toEqual([]);
  });

  it('ends an attempt that moves its job with DelayedError as expected, not failed', async () => {
    const queueName = uniqueQueueName('step');
    const queue = openQueue(queueName);
    const job = await queue.add('multi-step', { step: 1 });
    startWorker(queueName, async (current: Job, token?: string) => {
      if ((current.data as { step: number }).step === 1) {
        await current.updateData({ step: 2 });
        await current.moveToDelayed(Date.now() + 50, token);
        throw new DelayedError();
      }
      return 'finished';
    });
    await waitUntil(
      async () => (await queue.getJob(job.id!))?.finishedOn !== undefined,
      'the job to complete',
    );

    const spans = processSpans(queueName).sort(
      (a, b) => Number(a.attributes['task.attempt']) - Number(b.attributes['task.attempt']),
    );
    expect(spans.map((span) => span.attributes['task.attempt'])).toEqual([1, 2]);
    expect(spans[0].attributes).toMatchObject({
      'task.outcome': 'success',
      'task.expected_error': true,
    });
    expect(spans[0].status.code).toBe(SpanStatusCode.UNSET);
    expect(spans[1].attributes['task.outcome']).toBe('success');
    expect((await queue.getJob(job.id!))?.returnvalue).toBe('finished');
    expect(await pointsOf('task.retries', queueName)).toEqual([]);
  });

  it('treats user-declared expected errors as successes while BullMQ still fails the job', async () => {
    const queueName = uniqueQueueName('expected');
    const queue = openQueue(queueName);
    class NotFoundError extends Error {}
    const job = await queue.add('lookup', {});
    startWorker(queueName, () => Promise.reject(new NotFoundError('nothing')), {
      expectedErrors: [NotFoundError],
      taskName: (current) => `task-${current.name}`,
    });
    await waitUntil(
      async () => (await queue.getJob(job.id!))?.finishedOn !== undefined,
      'the job to fail',
    );
    const [span] = processSpans(queueName);
    expect(span.attributes).toMatchObject({
      'task.name': 'task-lookup',
      'task.outcome': 'success',
      'task.expected_error': true,
    });
    expect(await (await queue.getJob(job.id!))?.getState()).toBe('failed');
  });

  it('ends an attempt cancelled through the abort signal as cancelled', async () => {
    const queueName = uniqueQueueName('cancel');
    const queue = openQueue(queueName);
    const job = await queue.add('render', {});
    let started = false;
    const worker = startWorker(
      queueName,
      (_job: Job, _token?: string, signal?: AbortSignal) =>
        new Promise((_resolve, reject) => {
          started = true;
          signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
        }),
    );
    await waitUntil(() => started, 'the job to start');
    worker.cancelJob(job.id!, 'user asked');
    await waitUntil(() => processSpans(queueName).length === 1, 'the attempt to end');
    expect(processSpans(queueName)[0].attributes['task.outcome']).toBe('cancelled');
  });

  it('ignores the span active where the Worker was created: jobs do not join the startup trace', async () => {
    const queueName = uniqueQueueName('startup');
    const queue = instrumentQueue(openQueue(queueName));
    const startup = trace.getTracer('startup-test').startSpan('startup');
    await context.with(trace.setSpan(context.active(), startup), async () => {
      startWorker(queueName, () => Promise.resolve());
      startWorker(queueName, () => Promise.resolve(), { traceMode: 'link' });
      await sleep(0);
    });
    startup.end();
    for (let index = 0; index < 4; index += 1) await queue.add('index-page', { index });
    await waitUntil(() => processSpans(queueName).length === 4, 'every job');

    const sends = telemetry.spans().filter((span) => span.name === `send ${queueName}`);
    const startupTrace = startup.spanContext().traceId;
    for (const span of processSpans(queueName)) {
      const send = sends.find(
        (candidate) =>
          candidate.attributes['messaging.message.id'] === span.attributes['messaging.message.id'],
      )!;
      expect(span.spanContext().traceId).not.toBe(startupTrace);
      expect(span.links.some((link) => link.context.traceId === startupTrace)).toBe(false);
      const joined = span.parentSpanContext?.spanId === send.spanContext().spanId;
      const linked = span.links.some((link) => link.context.spanId === send.spanContext().spanId);
      expect(joined || linked).toBe(true);
    }
  });

  it("keeps the processor's arity, so that BullMQ passes the abort signal only when asked", () => {
    const withSignal = taskProcessor((_job: Job, _token?: string, _signal?: AbortSignal) =>
      Promise.resolve(),
    );
    const withoutSignal = taskProcessor((_job: Job) => Promise.resolve());
    expect(withSignal.length).toBe(3);
    expect(withoutSignal.length).toBe(2);
  });
});
