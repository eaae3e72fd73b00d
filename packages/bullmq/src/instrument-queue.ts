import { diag } from '@opentelemetry/api';
import { sendTask } from '@tasklens/core';
import type { Queue } from 'bullmq';
import { withCarrier } from './job-carrier.js';
import { deferred, sendOptionsOf, setJobId, startDeferredSend } from './producer-span.js';
import { watchQueue } from './queue-depth.js';
import { ATTR_BULLMQ_JOB_SCHEDULER_ID } from './semconv.js';
import type { JobDescription, ProducerOptions } from './types.js';

type AnyQueue = Queue<unknown, unknown, string>;
type Add = AnyQueue['add'];
type AddBulk = AnyQueue['addBulk'];
type UpsertJobScheduler = AnyQueue['upsertJobScheduler'];
type BulkJob = Parameters<AddBulk>[0][number];
type AddedJob = Awaited<ReturnType<Add>>;

const instrumented = new WeakSet<object>();

/**
 * Instruments a BullMQ `Queue` instance: `add`, `addBulk` and `upsertJobScheduler` then create a
 * PRODUCER span per job (`send {queue}`) and carry its context and the enqueue time in the job's
 * `opts.telemetry.metadata` (`job.data` is left as it is). Returns the same queue; instrumenting
 * it twice changes nothing. Call it where the queue is created: every `queue.add` of the
 * application is then traced.
 *
 * @example
 * import { Queue } from 'bullmq';
 * import { instrumentQueue } from '@tasklens/bullmq';
 *
 * const emails = instrumentQueue(new Queue('emails', { connection }));
 * await emails.add('send-welcome-email', { to: 'ada@example.com' });
 */
export function instrumentQueue<Q extends AnyQueue>(queue: Q, options: ProducerOptions = {}): Q {
  if (instrumented.has(queue)) return queue;
  try {
    patchAdd(queue, options);
    patchAddBulk(queue, options);
    patchUpsertJobScheduler(queue, options);
    instrumented.add(queue);
    watchQueue(queue, options);
  } catch (error) {
    diag.error('tasklens: could not instrument a BullMQ queue; it works uninstrumented', error);
  }
  return queue;
}

function patchAdd(queue: AnyQueue, options: ProducerOptions): void {
  const add: Add = queue.add.bind(queue);
  queue.add = (name, data, opts) => {
    const job: JobDescription = { name, queueName: queue.name, data, opts };
    return sendTask(sendOptionsOf(job, options), async ({ carrier, span }) => {
      const added = await add(name, data, withCarrier(opts, carrier));
      setJobId(span, added);
      return added;
    });
  };
}

function patchAddBulk(queue: AnyQueue, options: ProducerOptions): void {
  const addBulk: AddBulk = queue.addBulk.bind(queue);
  queue.addBulk = async (jobs) => {
    if (!Array.isArray(jobs)) return addBulk(jobs);
    const added = deferred<AddedJob[]>();
    const prepared = await Promise.all(
      jobs.map((job: BulkJob, index) =>
        startDeferredSend(
          sendOptionsOf({ ...job, queueName: queue.name }, options),
          (carrier): BulkJob => ({ ...job, opts: withCarrier(job.opts, carrier) }),
          added.promise,
          (span, results) => setJobId(span, results[index]),
          job,
        ),
      ),
    );
    const result = addBulk(prepared);
    added.settle(result);
    return result;
  };
}

function patchUpsertJobScheduler(queue: AnyQueue, options: ProducerOptions): void {
  const upsert: UpsertJobScheduler = queue.upsertJobScheduler.bind(queue);
  queue.upsertJobScheduler = (schedulerId, repeatOpts, template) => {
    const job: JobDescription = {
      name: template?.name ?? schedulerId,
      queueName: queue.name,
      data: template?.data,
      opts: template?.opts,
    };
    const sendOptions = {
      ...sendOptionsOf(job, options),
      attributes: { [ATTR_BULLMQ_JOB_SCHEDULER_ID]: schedulerId },
    };
    return sendTask(sendOptions, async ({ carrier, span }) => {
      const first = await upsert(schedulerId, repeatOpts, {
        ...template,
        opts: withCarrier(template?.opts, carrier),
      });
      setJobId(span, first);
      return first;
    });
  };
}
