import { context, diag, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import { isTelemetryActive, startTaskAttempt } from '@tasklens/core';
import type { TaskAttempt, TaskAttemptOptions } from '@tasklens/core';
import type { ConsumeMessage, Message } from 'amqplib';
import { Delivery } from './delivery.js';
import {
  attemptOf,
  deadLetterAttributes,
  declaresDeadLetterExchange,
  messageIdOf,
} from './delivery-headers.js';
import { consumerSettings } from './instrumentation-settings.js';
import type { InstrumentationSettings } from './instrumentation-settings.js';
import type { MessageHandler, WrappableChannel } from './internal-types.js';
import { OpenDeliveries } from './open-deliveries.js';
import {
  ATTR_MESSAGING_RABBITMQ_DESTINATION_ROUTING_KEY,
  ATTR_MESSAGING_RABBITMQ_MESSAGE_DELIVERY_TAG,
  MESSAGING_SYSTEM_RABBITMQ,
} from './semconv.js';
import type { TaskConsumerOptions } from './types.js';

const MAX_DEAD_LETTER_QUEUES = 1000;

/** Queues declared with a dead-letter exchange through an instrumented channel (bounded). */
const deadLetterQueues = new Set<string>();

const consumerOptions = new WeakMap<MessageHandler, TaskConsumerOptions>();

/**
 * Gives one consumer its own tasklens options (task name, trace mode, expected errors): pass
 * the returned handler to `channel.consume` of an instrumented channel.
 *
 * @example
 * await channel.consume('thumbnails', taskConsumer(onMessage, { traceMode: 'link' }));
 */
export function taskConsumer<Handler extends (message: ConsumeMessage | null) => unknown>(
  onMessage: Handler,
  options: TaskConsumerOptions,
): Handler {
  const handler = ((message: ConsumeMessage | null) => onMessage(message)) as Handler;
  consumerOptions.set(handler, options);
  return handler;
}

function rememberDeadLetterQueue(queue: unknown): void {
  if (typeof queue !== 'string' || queue === '') return;
  if (deadLetterQueues.size >= MAX_DEAD_LETTER_QUEUES) return;
  deadLetterQueues.add(queue);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function tagOf(message: Message): number | undefined {
  try {
    const tag: unknown = message.fields.deliveryTag;
    return typeof tag === 'number' ? tag : undefined;
  } catch {
    return undefined;
  }
}

function startAttempt(
  settings: InstrumentationSettings,
  queue: string,
  message: ConsumeMessage,
): TaskAttempt {
  const { fields, properties } = message;
  const headers: unknown = properties.headers;
  let name = queue;
  if (settings.taskName !== undefined) {
    try {
      name = settings.taskName(message, queue);
    } catch (error) {
      diag.warn('tasklens: taskName threw; using the queue name as task name', error);
    }
  }
  const attributes: Attributes = {
    [ATTR_MESSAGING_RABBITMQ_DESTINATION_ROUTING_KEY]: fields.routingKey,
    [ATTR_MESSAGING_RABBITMQ_MESSAGE_DELIVERY_TAG]: fields.deliveryTag,
  };
  const deadLetter = deadLetterAttributes(headers);
  if (deadLetter !== undefined) Object.assign(attributes, deadLetter);
  const options: TaskAttemptOptions = {
    name,
    queue,
    system: MESSAGING_SYSTEM_RABBITMQ,
    id: messageIdOf(properties),
    attempt: attemptOf(headers, fields.redelivered === true),
    carrier: headers,
    traceMode: settings.traceMode,
    expectedErrors: settings.expectedErrors,
    attributes,
  };
  // Deliveries run in the socket's async context, i.e. wherever the connection was opened:
  // no meaningful parent or link, so the attempt is placed from the carrier alone.
  if (trace.getSpan(context.active()) === undefined) return startTaskAttempt(options);
  return context.with(ROOT_CONTEXT, startTaskAttempt, undefined, options);
}

/** The handler threw or its promise rejected: end (noAck) or remember the failure. */
function handlerFailed(attempt: TaskAttempt, delivery: Delivery | undefined, error: unknown): void {
  if (delivery === undefined) attempt.fail(error);
  else delivery.handlerFailed(error);
}

/**
 * A handler that runs each delivery as a task attempt, ended on settlement (or on return with
 * noAck). With no SDK registered it calls the user's handler and nothing else.
 */
function instrumentedHandler(
  settings: InstrumentationSettings,
  deliveries: OpenDeliveries,
  queue: string,
  onMessage: MessageHandler,
  noAck: boolean,
): MessageHandler {
  return (message) => {
    if (message === null || typeof message !== 'object' || !isTelemetryActive()) {
      return onMessage(message);
    }
    let attempt: TaskAttempt;
    let delivery: Delivery | undefined;
    try {
      attempt = startAttempt(settings, queue, message);
      if (!noAck) {
        delivery = new Delivery(message.fields.deliveryTag, queue, attempt, Date.now());
        deliveries.add(delivery);
      }
    } catch (error) {
      diag.error('tasklens: could not start the span of a delivery', error);
      return onMessage(message);
    }
    let result: unknown;
    try {
      result = context.with(attempt.context, onMessage, undefined, message);
    } catch (error) {
      handlerFailed(attempt, delivery, error);
      throw error;
    }
    if (isPromiseLike(result)) {
      // The rejection is passed on, so an unhandled one stays unhandled, as without tasklens.
      return result.then(
        (value) => {
          if (noAck) attempt.succeed();
          return value;
        },
        (error: unknown) => {
          handlerFailed(attempt, delivery, error);
          throw error;
        },
      );
    }
    if (noAck) attempt.succeed();
    return result;
  };
}

/**
 * Wraps `consume`, `assertQueue` and the settlement methods of one channel instance: each
 * delivery is a task attempt whose span ends when the message is acked, nacked or rejected.
 */
export function instrumentConsuming(
  channel: WrappableChannel,
  settings: InstrumentationSettings,
): void {
  const deliveries = new OpenDeliveries(
    settings.unsettledTimeoutMs,
    settings.maxUnsettledDeliveries,
  );
  const original = {
    consume: channel.consume,
    assertQueue: channel.assertQueue,
    ack: channel.ack,
    ackAll: channel.ackAll,
    nack: channel.nack,
    nackAll: channel.nackAll,
    reject: channel.reject,
  };

  const nackEach = (
    settled: readonly Delivery[],
    settlement: 'nack' | 'reject',
    requeue: boolean | undefined,
  ): void => {
    const requeued = requeue === undefined ? true : Boolean(requeue);
    for (const delivery of settled) {
      delivery.nack(settlement, requeued, deadLetterQueues.has(delivery.queue));
    }
  };
  const nackOne = (
    delivery: Delivery | undefined,
    settlement: 'nack' | 'reject',
    requeue: boolean | undefined,
  ): void => {
    if (delivery === undefined) return;
    const requeued = requeue === undefined ? true : Boolean(requeue);
    delivery.nack(settlement, requeued, deadLetterQueues.has(delivery.queue));
  };
  const takeOne = (message: Message): Delivery | undefined => {
    const tag = tagOf(message);
    return tag === undefined ? undefined : deliveries.take(tag);
  };
  const takeUpTo = (message: Message): Delivery[] => {
    const tag = tagOf(message);
    return tag === undefined ? [] : deliveries.takeUpTo(tag);
  };
  const reportSettleError = (error: unknown): void => {
    diag.error('tasklens: could not end the span of a settled delivery', error);
  };

  channel.consume = (queue, onMessage, options, ...rest) => {
    if (typeof onMessage !== 'function') {
      return original.consume.call(channel, queue, onMessage, options, ...rest);
    }
    const noAck = options?.noAck === true;
    const handler = instrumentedHandler(
      consumerSettings(settings, consumerOptions.get(onMessage)),
      deliveries,
      queue,
      onMessage,
      noAck,
    );
    return original.consume.call(channel, queue, handler, options, ...rest);
  };

  channel.assertQueue = (queue, options, ...rest) => {
    const reply = original.assertQueue.call(channel, queue, options, ...rest);
    try {
      if (declaresDeadLetterExchange(options)) {
        if (queue !== undefined && queue !== '') rememberDeadLetterQueue(queue);
        else if (isPromiseLike(reply)) {
          reply.then(
            (declared) => rememberDeadLetterQueue((declared as { queue?: unknown }).queue),
            ignoreRejection,
          );
        }
      }
    } catch (error) {
      diag.warn('tasklens: could not read assertQueue options', error);
    }
    return reply;
  };

  // With no delivery open (no SDK registered, noAck consumers) a settlement has nothing to end.
  channel.ack = (message, allUpTo) => {
    original.ack.call(channel, message, allUpTo);
    if (deliveries.size === 0) return;
    try {
      // Truthiness, as amqplib encodes the `multiple` flag.
      if (!allUpTo) takeOne(message)?.ack();
      else for (const delivery of takeUpTo(message)) delivery.ack();
    } catch (error) {
      reportSettleError(error);
    }
  };
  channel.ackAll = () => {
    original.ackAll.call(channel);
    if (deliveries.size === 0) return;
    try {
      for (const delivery of deliveries.takeAll()) delivery.ack();
    } catch (error) {
      reportSettleError(error);
    }
  };
  channel.nack = (message, allUpTo, requeue) => {
    original.nack.call(channel, message, allUpTo, requeue);
    if (deliveries.size === 0) return;
    try {
      if (!allUpTo) nackOne(takeOne(message), 'nack', requeue);
      else nackEach(takeUpTo(message), 'nack', requeue);
    } catch (error) {
      reportSettleError(error);
    }
  };
  channel.nackAll = (requeue) => {
    original.nackAll.call(channel, requeue);
    if (deliveries.size === 0) return;
    try {
      nackEach(deliveries.takeAll(), 'nack', requeue);
    } catch (error) {
      reportSettleError(error);
    }
  };
  channel.reject = (message, requeue) => {
    original.reject.call(channel, message, requeue);
    if (deliveries.size === 0) return;
    try {
      nackOne(takeOne(message), 'reject', requeue);
    } catch (error) {
      reportSettleError(error);
    }
  };

  channel.on('close', () => {
    try {
      deliveries.cancelAll();
    } catch (error) {
      reportSettleError(error);
    }
  });
}

function ignoreRejection(): void {
  // The caller gets the rejection from the promise they hold.
}
