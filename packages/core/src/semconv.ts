/*
 * Semantic-convention attribute names and values we use, copied as constants (the contrib practice)
 * so core does not depend on the incubating exports of @opentelemetry/semantic-conventions.
 */

export const ATTR_MESSAGING_SYSTEM = 'messaging.system';
export const ATTR_MESSAGING_DESTINATION_NAME = 'messaging.destination.name';
export const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
export const ATTR_MESSAGING_OPERATION_NAME = 'messaging.operation.name';
export const ATTR_MESSAGING_MESSAGE_ID = 'messaging.message.id';
/** The consumer (group) that received the message: span attribute only. */
export const ATTR_MESSAGING_CONSUMER_GROUP_NAME = 'messaging.consumer.group.name';
export const ATTR_ERROR_TYPE = 'error.type';

export const MESSAGING_OPERATION_TYPE_SEND = 'send';
export const MESSAGING_OPERATION_TYPE_PROCESS = 'process';

/** The `error.type` value for errors whose class cannot be named. */
export const ERROR_TYPE_OTHER = '_OTHER';

/* tasklens's own attributes (documented in the README). */
export const ATTR_TASK_NAME = 'task.name';
export const ATTR_TASK_QUEUE = 'task.queue';
export const ATTR_TASK_ID = 'task.id';
export const ATTR_TASK_ATTEMPT = 'task.attempt';
export const ATTR_TASK_MAX_ATTEMPTS = 'task.max_attempts';
export const ATTR_TASK_OUTCOME = 'task.outcome';
export const ATTR_TASK_RETRYING = 'task.retrying';
export const ATTR_TASK_EXPECTED_ERROR = 'task.expected_error';
export const ATTR_TASK_WAIT_DURATION = 'task.wait.duration';
/** On a lost attempt's span: its start time is an estimate (the broker does not keep it). */
export const ATTR_TASK_LOST_START_ESTIMATED = 'task.lost.start_estimated';
/** On a lost attempt's span: its end time is an estimate (the time the loss was found). */
export const ATTR_TASK_LOST_END_ESTIMATED = 'task.lost.end_estimated';
/** How a consumer settled the message of an attempt (`ack`, `nack`, `reject`, `nak`, `term`). */
export const ATTR_TASK_SETTLEMENT = 'task.settlement';
/** Whether a negative settlement had the broker deliver the message again. */
export const ATTR_TASK_REQUEUE = 'task.requeue';
export const ATTR_CARRIER_REJECT_REASON = 'reason';
