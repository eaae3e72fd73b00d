import { isQueueDepthWatched, queueDepthSettings, watchQueueDepth } from '@tasklens/core/adapter';
import type { QueueDepth, QueueDepthOptions, QueueDepthReader } from '@tasklens/core/adapter';
import { MESSAGING_SYSTEM_BULLMQ } from './semconv.js';

/** What a poll uses of the backend of a BullMQ `Queue` or `Worker` (Redis or another store). */
interface QueueBackend {
  forQueue?(queueName: string, prefix?: string): QueueBackend;
  getCounts(types: string[]): Promise<number[]>;
  getJobs(
    types: string[],
    start: number,
    end: number,
    asc: boolean,
  ): Promise<[string, string[]][][]>;
}

/** A BullMQ `Queue` or `Worker` (the `queue` of a job a worker runs), as far as it is read here. */
interface QueueSource {
  readonly name: string;
  readonly closing?: Promise<void> | undefined;
  readonly closed?: boolean;
  getBackend(): QueueBackend;
}

/** The states counted, in the order of {@link depthOf}: one `getCounts` script for all. */
const COUNTED_STATES = ['wait', 'paused', 'prioritized', 'active', 'delayed', 'failed'];

function isQueueSource(value: unknown): value is QueueSource {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { name?: unknown }).name === 'string' &&
    typeof (value as { getBackend?: unknown }).getBackend === 'function'
  );
}

/** When the oldest waiting job became due, in ms since the epoch, from its hash's fields. */
function dueAtOf(fields: readonly string[] | undefined): number | undefined {
  if (fields === undefined) return undefined;
  let timestamp: number | undefined;
  let delay = 0;
  for (let index = 0; index + 1 < fields.length; index += 2) {
    const value = Number(fields[index + 1]);
    if (fields[index] === 'timestamp' && Number.isFinite(value)) timestamp = value;
    else if (fields[index] === 'delay' && Number.isFinite(value)) delay = value;
  }
  return timestamp === undefined ? undefined : timestamp + delay;
}

function depthOf(
  counts: readonly number[],
  oldest: [string, string[]][][],
  now: number,
): QueueDepth {
  const [wait = 0, paused = 0, prioritized = 0, active = 0, delayed = 0, failed = 0] = counts.map(
    (count) => Number(count) || 0,
  );
  const waiting = wait + paused + prioritized;
  const depth: QueueDepth = { waiting, active, delayed, failed };
  const dueAt = dueAtOf(oldest[0]?.[0]?.[1]);
  if (waiting === 0) depth.oldestWaitingAgeSeconds = 0;
  else if (dueAt !== undefined) depth.oldestWaitingAgeSeconds = Math.max(0, now - dueAt) / 1000;
  return depth;
}

/**
 * Two commands per poll: BullMQ's `getCounts` script (wait, paused, prioritized, active,
 * delayed, failed) and its `getJobs` script for the job at the old end of the wait list (its
 * `timestamp` and `delay`). Both go through the queue's or worker's own connection.
 */
function readerOf(source: QueueSource): QueueDepthReader {
  return {
    async read() {
      const backend = source.getBackend();
      const [counts, oldest] = await Promise.all([
        backend.getCounts(COUNTED_STATES),
        backend.getJobs(['wait'], 0, 0, true),
      ]);
      return depthOf(counts, oldest, Date.now());
    },
    isClosed: () => source.closing !== undefined || source.closed === true,
  };
}

/** Polls the depth of the queue of a `Queue` the application instrumented. */
export function watchQueue(queue: unknown, options: QueueDepthOptions): void {
  if (!isQueueSource(queue)) return;
  watchQueueDepth(MESSAGING_SYSTEM_BULLMQ, queue.name, () => readerOf(queue), options);
}

/** Whether queue depth is on for a processor's options, decided once per options object. */
const enabledFor = new WeakMap<object, boolean>();

/**
 * Polls the depth of the queue a worker takes a job from, through the worker's own connection
 * (no connection of its own). Costs one map lookup per job once the queue is polled.
 */
export function watchJobQueue(job: { queueName: string }, options: QueueDepthOptions): void {
  if (isQueueDepthWatched(MESSAGING_SYSTEM_BULLMQ, job.queueName)) return;
  let enabled = enabledFor.get(options);
  if (enabled === undefined) {
    enabled = queueDepthSettings(options).enabled;
    enabledFor.set(options, enabled);
  }
  // A sandboxed processor's job has no worker behind it: nothing to poll through.
  const worker = (job as { queue?: unknown }).queue;
  if (enabled && isQueueSource(worker) && worker.name === job.queueName) {
    watchQueueDepth(MESSAGING_SYSTEM_BULLMQ, job.queueName, () => readerOf(worker), options);
  }
}

/** A node of a flow as given to `FlowProducer.add`, as far as it names queues. */
interface FlowQueues {
  queueName?: unknown;
  prefix?: unknown;
  children?: unknown;
}

/** The most flow nodes read for their queue names per `add`. */
const MAX_FLOW_NODES = 1000;

/**
 * Polls the depth of every queue a flow given to an instrumented `FlowProducer` adds jobs to,
 * through the flow producer's connection (its backend bound to each queue, as BullMQ itself does
 * to add the jobs).
 */
export function watchFlowQueues(
  flowProducer: unknown,
  flow: unknown,
  options: QueueDepthOptions,
): void {
  if (
    typeof flowProducer !== 'object' ||
    flowProducer === null ||
    typeof (flowProducer as { getBackend?: unknown }).getBackend !== 'function'
  ) {
    return;
  }
  const producer = flowProducer as Omit<QueueSource, 'name'>;
  const pending: unknown[] = [flow];
  for (let read = 0; pending.length > 0 && read < MAX_FLOW_NODES; read++) {
    const node = pending.pop() as FlowQueues | undefined;
    if (typeof node !== 'object' || node === null) continue;
    if (Array.isArray(node.children)) pending.push(...(node.children as unknown[]));
    const queueName = node.queueName;
    if (typeof queueName !== 'string' || isQueueDepthWatched(MESSAGING_SYSTEM_BULLMQ, queueName)) {
      continue;
    }
    const prefix = typeof node.prefix === 'string' ? node.prefix : undefined;
    let backend: QueueBackend | undefined;
    const source: QueueSource = {
      name: queueName,
      get closing() {
        return producer.closing;
      },
      get closed() {
        return producer.closed;
      },
      getBackend() {
        if (backend !== undefined) return backend;
        const flowBackend = producer.getBackend();
        if (flowBackend.forQueue === undefined) {
          throw new Error('this BullMQ version has no backend per queue');
        }
        backend = flowBackend.forQueue(queueName, prefix);
        return backend;
      },
    };
    watchQueueDepth(MESSAGING_SYSTEM_BULLMQ, queueName, () => readerOf(source), options);
  }
}
