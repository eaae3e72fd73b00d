import { LimitedWarning } from '@tasklens/core/adapter';
import type { Settlement } from '@tasklens/core/adapter';
import type { Message } from 'amqplib';
import { hasDeadLetterExchange } from './dead-letter-queues.js';
import type { ChannelDeliveries, Delivery } from './delivery.js';
import type { WrappableChannel } from './internal-types.js';
import { ATTR_TASK_DEAD_LETTERED } from './semconv.js';
import { MessageNackedError } from './settlement-error.js';

const settleFailed = new LimitedWarning('could not end the span of a settled delivery');

const ACK: Settlement = { verb: 'ack' };
const DEAD_LETTERED = { [ATTR_TASK_DEAD_LETTERED]: true };

function tagOf(message: Message): number | undefined {
  try {
    const tag: unknown = message.fields.deliveryTag;
    return typeof tag === 'number' ? tag : undefined;
  } catch {
    return undefined;
  }
}

/** A nack or reject: a failed attempt, retried when the broker requeues (amqplib's default). */
function rejected(delivery: Delivery, verb: 'nack' | 'reject', requeue: unknown): void {
  const requeued = requeue === undefined ? true : Boolean(requeue);
  delivery.settle({
    verb,
    rejection: new MessageNackedError(verb, requeued),
    requeue: requeued,
    attributes: !requeued && hasDeadLetterExchange(delivery.queue) ? DEAD_LETTERED : undefined,
  });
}

/**
 * Wraps the settlement methods of one channel instance (after the client's own call, so a call
 * that throws records nothing) and its `close` event: each settles the deliveries it names.
 * With no delivery open (no SDK registered, noAck consumers) a settlement has nothing to end.
 */
export function instrumentSettlement(
  channel: WrappableChannel,
  deliveries: ChannelDeliveries,
): void {
  const { ack, ackAll, nack, nackAll, reject } = channel;
  const settleEach = (
    message: Message,
    allUpTo: unknown,
    settle: (delivery: Delivery) => void,
  ): void => {
    if (deliveries.size === 0) return;
    try {
      const tag = tagOf(message);
      if (tag === undefined) return;
      // Truthiness, as amqplib encodes the `multiple` flag.
      if (!allUpTo) {
        const delivery = deliveries.take(tag);
        if (delivery !== undefined) settle(delivery);
      } else for (const delivery of deliveries.takeUpTo(tag)) settle(delivery);
    } catch (error) {
      settleFailed.report(error);
    }
  };
  const settleAll = (settle: (delivery: Delivery) => void): void => {
    if (deliveries.size === 0) return;
    try {
      for (const delivery of deliveries.takeAll()) settle(delivery);
    } catch (error) {
      settleFailed.report(error);
    }
  };

  channel.ack = (message, allUpTo) => {
    ack.call(channel, message, allUpTo);
    settleEach(message, allUpTo, (delivery) => delivery.settle(ACK));
  };
  channel.ackAll = () => {
    ackAll.call(channel);
    settleAll((delivery) => delivery.settle(ACK));
  };
  channel.nack = (message, allUpTo, requeue) => {
    nack.call(channel, message, allUpTo, requeue);
    settleEach(message, allUpTo, (delivery) => rejected(delivery, 'nack', requeue));
  };
  channel.nackAll = (requeue) => {
    nackAll.call(channel, requeue);
    settleAll((delivery) => rejected(delivery, 'nack', requeue));
  };
  channel.reject = (message, requeue) => {
    reject.call(channel, message, requeue);
    settleEach(message, false, (delivery) => rejected(delivery, 'reject', requeue));
  };
  // The channel closed first: the broker requeues its unsettled messages (a later attempt).
  channel.on('close', () => settleAll((delivery) => delivery.cancel()));
}
