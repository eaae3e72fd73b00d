/* Workers and queues of one test, closed and removed from Redis after it. */
import { Queue, Worker } from 'bullmq';
import type { Processor, WorkerOptions } from 'bullmq';
import { taskProcessor } from '@tasklens/bullmq';
import type { TaskProcessorOptions } from '@tasklens/bullmq';
import { connection } from './queues.js';

const cleanups: Array<() => Promise<unknown>> = [];

/** A queue handle on `name`; the queue is obliterated after the test. */
export function openQueue(name: string): Queue {
  const queue = new Queue(name, { connection });
  cleanups.push(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
  });
  return queue;
}

/** A worker on `name` running `processor` through `taskProcessor`; closed after the test. */
export function startWorker(
  name: string,
  processor: Processor,
  options?: TaskProcessorOptions<Parameters<Processor>[0]>,
  workerOptions: Partial<WorkerOptions> = {},
): Worker {
  const worker = new Worker(name, taskProcessor(processor, options), {
    connection,
    ...workerOptions,
  });
  cleanups.push(() => worker.close(true));
  return worker;
}

/** Registers a cleanup to run after the test (in reverse order of registration). */
export function onCleanup(cleanup: () => Promise<unknown>): void {
  cleanups.push(cleanup);
}

/** Runs the registered cleanups, newest first. */
export async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}
