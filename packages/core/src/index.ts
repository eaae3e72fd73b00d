export { runTask } from './run-task.js';
export { isTelemetryActive } from './telemetry-active.js';
export { sendTask } from './send-task.js';
export type { TaskSend } from './send-task.js';
export {
  ENQUEUED_AT_KEY,
  extractTaskCarrier,
  injectTaskCarrier,
  PIPELINE_STARTED_AT_KEY,
} from './carrier.js';
export type { CarrierRejectReason, ExtractedCarrier } from './carrier.js';
export { extractTaskEnv, injectTaskEnv } from './env-carrier.js';
export { errorTypeOf, TaskTimeoutError } from './task-errors.js';
export { TASK_DURATION_BUCKETS } from './task-metrics.js';
export { prometheusLabel, TASK_METRICS } from './metric-names.js';
export type { TaskMetricName } from './metric-names.js';
export {
  ATTR_ERROR_TYPE,
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_TASK_ATTEMPT,
  ATTR_TASK_EXPECTED_ERROR,
  ATTR_TASK_ID,
  ATTR_TASK_LOST_END_ESTIMATED,
  ATTR_TASK_LOST_START_ESTIMATED,
  ATTR_TASK_MAX_ATTEMPTS,
  ATTR_TASK_NAME,
  ATTR_TASK_OUTCOME,
  ATTR_TASK_QUEUE,
  ATTR_TASK_REQUEUE,
  ATTR_TASK_RETRYING,
  ATTR_TASK_SETTLEMENT,
  ATTR_TASK_WAIT_DURATION,
  ERROR_TYPE_OTHER,
} from './semconv.js';
export type {
  ExpectedErrors,
  LostAttempt,
  LostAttemptCause,
  RunTaskOptions,
  SendTaskOptions,
  TaskCarrier,
  TaskContext,
  TaskIdentity,
  TaskOutcome,
  TaskSpanOptions,
  TraceMode,
} from './types.js';
