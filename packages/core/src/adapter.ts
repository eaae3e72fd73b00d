/*
 * `@tasklens/core/adapter`: what a transport adapter builds on (the BullMQ, RabbitMQ and NATS
 * adapters, or your own queue's). Applications use the main entry instead.
 */
export { TASKLENS_CARRIER_KEYS } from './carrier.js';
export { startTaskAttempt } from './task-attempt.js';
export type { TaskAttempt } from './task-attempt.js';
export { runTaskAttempt } from './run-task.js';
export { DEFAULT_SETTLE_TIMEOUT_MS, SettledAttempt, settleTimeoutMsOf } from './settled-attempt.js';
export type { Settlement, SettledAttemptOptions } from './settled-attempt.js';
export { BoundedMap } from './bounded-map.js';
export { MAX_OPEN_ATTEMPTS } from './open-attempts.js';
export { MAX_RETURNED_DELIVERIES, RedeliveryLedger } from './redelivery-ledger.js';
export { LimitedWarning } from './limited-warning.js';
export { resolveTaskName } from './task-name.js';
export type { TaskNameOption } from './task-name.js';
export { isPromiseLike } from './promise-like.js';
export { NEVER_ABORTED, NON_RECORDING_SPAN } from './uninstrumented.js';
export type { RunTaskAttemptOptions, TaskAttemptOptions } from './types.js';
export {
  DEFAULT_QUEUE_DEPTH_INTERVAL_MS,
  isQueueDepthWatched,
  MAX_WATCHED_QUEUES,
  MIN_QUEUE_DEPTH_INTERVAL_MS,
  QUEUE_DEPTH_ENV,
  queueDepthPollCounts,
  queueDepthSettings,
  unwatchQueueDepth,
  watchQueueDepth,
} from './queue-depth.js';
export type {
  QueueDepth,
  QueueDepthOptions,
  QueueDepthPollCount,
  QueueDepthReader,
  QueueDepthSettings,
} from './queue-depth.js';
