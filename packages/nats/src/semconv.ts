/*
 * Semantic-convention names this adapter sets itself, copied as constants (the contrib practice);
 * core sets and exports the rest.
 */

/** `messaging.system` of JetStream tasks. */
export const MESSAGING_SYSTEM_NATS = 'nats';
