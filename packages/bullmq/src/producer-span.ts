import type { Span } from '@opentelemetry/api';
import { ATTR_MESSAGING_MESSAGE_ID, ATTR_TASK_ID, sendTask } from '@tasklens/core';
import type { SendTaskOptions, TaskCarrier } from '@tasklens/core';
import { LimitedWarning, resolveTaskName } from '@tasklens/core/adapter';
import { MESSAGING_SYSTEM_BULLMQ } from './semconv.js';
import type { JobDescription, ProducerOptions } from './types.js';

const unrecorded = new LimitedWarning('could not record an added job on its span');

/** The send options of one job added to a queue. */
export function sendOptionsOf(job: JobDescription, options: ProducerOptions): SendTaskOptions {
  const id = job.opts?.jobId;
  return {
    name: resolveTaskName(options.taskName, job.name, job, undefined),
    queue: job.queueName,
    system: MESSAGING_SYSTEM_BULLMQ,
    ...(typeof id === 'string' && id !== '' ? { id } : {}),
  };
}

/** Records the id BullMQ gave the job on its producer span. */
export function setJobId(span: Span, job: { id?: string | undefined } | undefined): void {
  const id = job?.id;
  if (typeof id !== 'string') return;
  span.setAttribute(ATTR_TASK_ID, id);
  span.setAttribute(ATTR_MESSAGING_MESSAGE_ID, id);
}

/**
 * Starts the PRODUCER span of one job that a bigger call adds (a bulk add, a flow): resolves
 * with `prepare`'s job made from the span's carrier, to be passed to that call; the span ends
 * when `added` settles, after `recordAdded` saw what was added. When no span can be started,
 * resolves with `fallback`, the job as the user gave it.
 */
export function startDeferredSend<T, R>(
  options: SendTaskOptions,
  prepare: (carrier: TaskCarrier) => Promise<T> | T,
  added: Promise<R>,
  recordAdded: (span: Span, result: R) => void,
  fallback: T,
): Promise<T> {
  added.catch(() => undefined);
  return new Promise<T>((resolve) => {
    sendTask(options, async ({ carrier, span }) => {
      resolve(await prepare(carrier));
      const result = await added;
      try {
        recordAdded(span, result);
      } catch (error) {
        unrecorded.report(error);
      }
    }).catch(() => resolve(fallback));
  });
}

/** A promise settled later with the result of the real add call. */
export interface Deferred<R> {
  promise: Promise<R>;
  settle(result: Promise<R>): void;
}

/**
 * A promise to settle later with the real add call's result. It handles its own rejection, so
 * that spans waiting on a failed add never leave an unhandled one.
 */
export function deferred<R>(): Deferred<R> {
  let settle!: (result: Promise<R>) => void;
  const promise = new Promise<R>((resolve) => {
    settle = resolve;
  });
  promise.catch(() => undefined);
  return { promise, settle };
}
