/*
 * Semantic-convention names this adapter uses beyond core's, copied as constants (the contrib
 * practice) instead of depending on the incubating exports of @opentelemetry/semantic-conventions.
 */

/** `messaging.system` of RabbitMQ. */
export const MESSAGING_SYSTEM_RABBITMQ = 'rabbitmq';
export const ATTR_MESSAGING_RABBITMQ_DESTINATION_ROUTING_KEY =
  'messaging.rabbitmq.destination.routing_key';
export const ATTR_MESSAGING_RABBITMQ_MESSAGE_DELIVERY_TAG =
  'messaging.rabbitmq.message.delivery_tag';

/* tasklens's own attributes (documented in the README). */

/** A message nacked or rejected without requeue from a queue known to have a dead-letter exchange. */
export const ATTR_TASK_DEAD_LETTERED = 'task.dead_lettered';
/** From `x-death` of a dead-lettered message: the queue it was dead-lettered from. */
export const ATTR_TASK_DEAD_LETTER_QUEUE = 'task.dead_letter.queue';
/** From `x-death`: the exchange it was published to before being dead-lettered. */
export const ATTR_TASK_DEAD_LETTER_EXCHANGE = 'task.dead_letter.exchange';
/** From `x-death`: why (`rejected`, `expired`, `maxlen`, `delivery_limit`). */
export const ATTR_TASK_DEAD_LETTER_REASON = 'task.dead_letter.reason';
/** From `x-death`: how many times it was dead-lettered from that queue for that reason. */
export const ATTR_TASK_DEAD_LETTER_COUNT = 'task.dead_letter.count';
