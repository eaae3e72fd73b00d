export { instrumentChannel } from './instrument-channel.js';
export { taskConsumer } from './consume-instrumentation.js';
export { MessageNackedError } from './settlement-error.js';
export {
  ATTR_MESSAGING_RABBITMQ_DESTINATION_ROUTING_KEY,
  ATTR_MESSAGING_RABBITMQ_MESSAGE_DELIVERY_TAG,
  ATTR_TASK_DEAD_LETTERED,
  ATTR_TASK_DEAD_LETTER_COUNT,
  ATTR_TASK_DEAD_LETTER_EXCHANGE,
  ATTR_TASK_DEAD_LETTER_QUEUE,
  ATTR_TASK_DEAD_LETTER_REASON,
  MESSAGING_SYSTEM_RABBITMQ,
} from './semconv.js';
export { ATTR_TASK_REQUEUE, ATTR_TASK_SETTLEMENT } from '@tasklens/core';
export type { AmqplibInstrumentationOptions, PublishInfo, TaskConsumerOptions } from './types.js';
