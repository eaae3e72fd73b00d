/*
 * Semantic-convention names this adapter sets itself, copied as constants (the contrib practice);
 * core sets the rest.
 */

/** `messaging.system` of JetStream tasks. */
export const MESSAGING_SYSTEM_NATS = 'nats';
export const ATTR_MESSAGING_MESSAGE_ID = 'messaging.message.id';
/** The JetStream consumer that received the message (span attribute only). */
export const ATTR_MESSAGING_CONSUMER_GROUP_NAME = 'messaging.consumer.group.name';
