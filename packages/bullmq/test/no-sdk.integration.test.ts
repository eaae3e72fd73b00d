/*
 * With no OpenTelemetry SDK registered (this file registers none), taskProcessor only calls the
 * processor: same `this`, arguments, result and errors, and BullMQ completes, retries and fails
 * jobs exactly as without it.
 */
import { UnrecoverableError } from 'bullmq';
import type { Job } from 'bullmq';
import { taskProcessor } from '@tasklens/bullmq';
import { isTelemetryActive } from '@tasklens/core';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { cleanUp, openQueue, startWorker } from './support/harness.js';
import { requireRedis } from '@tasklens/test-utils';
import { uniqueQueueName, waitUntil } from './support/queues.js';

beforeAll(() => requireRedis());
afterEach(() => cleanUp());

it('runs no instrumentation with no SDK registered', () => {
  expect(isTelemetryActive()).toBe(false);
});

it('passes this, the arguments, the result and a synchronous error through unchanged', () => {
  const result = Promise.resolve('done');
  const failure = new Error('failed');
  const calls: unknown[][] = [];
  const processor = taskProcessor(function (this: unknown, job: Job, token?: string) {
    calls.push([this, job, token]);
    if (token === 'throw') throw failure;
    return result;
  });
  const self = {};
  const job = { id: '1' } as Job;

  expect(processor.call(self, job, 'token')).toBe(result);
  expect(calls).toEqual([[self, job, 'token']]);
  expect(() => processor.call(self, job, 'throw')).toThrow(failure);
});

it('completes, retries and fails jobs as BullMQ does without tasklens', async () => {
  const queueName = uniqueQueueName('nosdk');
  const queue = openQueue(queueName);
  const flaky = await queue.add('flaky', { n: 2 }, { attempts: 3 });
  const doomed = await queue.add('doomed', {}, { attempts: 3 });
  startWorker(queueName, (job: Job<{ n?: number }>) => {
    if (job.name === 'doomed') throw new UnrecoverableError('never');
    if (job.attemptsMade < 1) return Promise.reject(new Error('not yet'));
    return Promise.resolve({ doubled: (job.data.n ?? 0) * 2, attempt: job.attemptsMade + 1 });
  });
  await waitUntil(async () => (await queue.getCompletedCount()) === 1, 'the flaky job completes');
  await waitUntil(async () => (await queue.getFailedCount()) === 1, 'the doomed job fails');

  const completed = await queue.getJob(flaky.id ?? '');
  expect(completed?.returnvalue).toEqual({ doubled: 4, attempt: 2 });
  expect(completed?.attemptsMade).toBe(2);
  const failed = await queue.getJob(doomed.id ?? '');
  expect(failed?.failedReason).toBe('never');
  expect(failed?.attemptsMade).toBe(1);
});
