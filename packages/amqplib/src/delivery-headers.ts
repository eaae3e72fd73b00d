import type { Attributes } from '@opentelemetry/api';
import type { ConsumeMessage } from 'amqplib';
import {
  ATTR_MESSAGING_RABBITMQ_DESTINATION_ROUTING_KEY,
  ATTR_MESSAGING_RABBITMQ_MESSAGE_DELIVERY_TAG,
  ATTR_TASK_DEAD_LETTER_COUNT,
  ATTR_TASK_DEAD_LETTER_EXCHANGE,
  ATTR_TASK_DEAD_LETTER_QUEUE,
  ATTR_TASK_DEAD_LETTER_REASON,
} from './semconv.js';

const MAX_NAME_LENGTH = 255;

/**
 * One own data property of an untrusted object: headers come off the wire, so neither inherited
 * keys (a `__proto__` header can set the prototype) nor getters nor proxies are trusted.
 */
function ownValue(source: unknown, key: string): unknown {
  if (typeof source !== 'object' || source === null) return undefined;
  try {
    const descriptor = Object.getOwnPropertyDescriptor(source, key);
    return descriptor !== undefined && 'value' in descriptor ? descriptor.value : undefined;
  } catch {
    // A proxy's trap threw: treat the header as absent.
    return undefined;
  }
}

function countOf(value: unknown): number | undefined {
  const count = typeof value === 'bigint' ? Number(value) : value;
  return typeof count === 'number' && Number.isSafeInteger(count) && count >= 0 ? count : undefined;
}

function nameOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.length <= MAX_NAME_LENGTH ? value : undefined;
}

/**
 * The attempt number of a delivery: quorum queues count deliveries in `x-delivery-count`
 * (attempt = count + 1); otherwise AMQP only says whether the message was delivered before,
 * so a redelivery is attempt 2 (at least).
 */
function attemptOf(headers: unknown, redelivered: boolean): number {
  const deliveryCount = countOf(ownValue(headers, 'x-delivery-count'));
  if (deliveryCount !== undefined) return deliveryCount + 1;
  return redelivered ? 2 : 1;
}

/**
 * Span attributes describing the latest dead-lettering of a message, from the first entry of
 * its `x-death` header (RabbitMQ puts the most recent first); `undefined` when there is none.
 */
function deadLetterAttributes(headers: unknown): Attributes | undefined {
  const deaths = ownValue(headers, 'x-death');
  if (!Array.isArray(deaths) || deaths.length === 0) return undefined;
  const latest: unknown = deaths[0];
  const attributes: Attributes = {};
  const queue = nameOf(ownValue(latest, 'queue'));
  const exchange = nameOf(ownValue(latest, 'exchange'));
  const reason = nameOf(ownValue(latest, 'reason'));
  const count = countOf(ownValue(latest, 'count'));
  if (queue !== undefined) attributes[ATTR_TASK_DEAD_LETTER_QUEUE] = queue;
  if (exchange !== undefined) attributes[ATTR_TASK_DEAD_LETTER_EXCHANGE] = exchange;
  if (reason !== undefined) attributes[ATTR_TASK_DEAD_LETTER_REASON] = reason;
  if (count !== undefined) attributes[ATTR_TASK_DEAD_LETTER_COUNT] = count;
  return attributes;
}

/** The message id of a delivery's properties, when it is a usable string. */
function messageIdOf(properties: unknown): string | undefined {
  return nameOf(ownValue(properties, 'messageId'));
}

/**
 * What tells one message from another across its deliveries: its message id, else the trace
 * context an instrumented producer put in its headers (one send span per message).
 */
function messageKeyOf(id: string | undefined, headers: unknown): string | undefined {
  return id ?? nameOf(ownValue(headers, 'traceparent'));
}

/** What a delivery says about itself, read defensively from its fields, properties and headers. */
export interface DeliveryFacts {
  id: string | undefined;
  attempt: number;
  /** The broker delivered the message before (AMQP's `redelivered`). */
  redelivered: boolean;
  /** The message across its deliveries (its id or its producer's trace context), when known. */
  key: string | undefined;
  /** The headers, where the carrier travels. */
  carrier: unknown;
  /** Routing key, delivery tag and the latest dead-lettering. */
  attributes: Attributes;
}

/** The facts of one delivery its attempt is started from. */
export function describeDelivery(message: ConsumeMessage): DeliveryFacts {
  const { fields, properties } = message;
  const headers: unknown = properties.headers;
  const attributes: Attributes = {
    [ATTR_MESSAGING_RABBITMQ_DESTINATION_ROUTING_KEY]: fields.routingKey,
    [ATTR_MESSAGING_RABBITMQ_MESSAGE_DELIVERY_TAG]: fields.deliveryTag,
  };
  const deadLetter = deadLetterAttributes(headers);
  if (deadLetter !== undefined) Object.assign(attributes, deadLetter);
  const id = messageIdOf(properties);
  const redelivered = fields.redelivered === true;
  return {
    id,
    attempt: attemptOf(headers, redelivered),
    redelivered,
    key: messageKeyOf(id, headers),
    carrier: headers,
    attributes,
  };
}

/** Whether `assertQueue` options declare a dead-letter exchange. */
export function declaresDeadLetterExchange(options: unknown): boolean {
  if (typeof ownValue(options, 'deadLetterExchange') === 'string') return true;
  return typeof ownValue(ownValue(options, 'arguments'), 'x-dead-letter-exchange') === 'string';
}
