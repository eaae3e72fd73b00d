import { context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { isTelemetryActive } from '@tasklens/core';
import {
  LimitedWarning,
  RedeliveryLedger,
  resolveTaskName,
  startTaskAttempt,
} from '@tasklens/core/adapter';
import type { TaskAttempt, TaskAttemptOptions } from '@tasklens/core/adapter';
import type { ConsumeMessage } from 'amqplib';
import { Delivery } from './delivery.js';
import type { ChannelDeliveries } from './delivery.js';
import { describeDelivery } from './delivery-headers.js';
import { consumerSettings } from './instrumentation-settings.js';
import type { InstrumentationSettings } from './instrumentation-settings.js';
import type { MessageHandler, WrappableChannel } from './internal-types.js';
import type { QueueDepthWatch } from './queue-depth.js';
import { MESSAGING_SYSTEM_RABBITMQ } from './semconv.js';
import type { TaskConsumerOptions } from './types.js';

const startFailed = new LimitedWarning(
  'could not start the span of a delivery; it ran uninstrumented',
);

const consumerOptions = new WeakMap<MessageHandler, TaskConsumerOptions>();

/** The deliveries of this process, to tell a redelivery after a lost attempt (see Delivery). */
const ledger = new RedeliveryLedger();

/** One delivery starting: its attempt, and the ledger entry its settlement closes. */
interface StartedDelivery {
  attempt: TaskAttempt;
  ledgerKey: string | undefined;
}

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

function startAttempt(
  settings: InstrumentationSettings,
  queue: string,
  message: ConsumeMessage,
  acknowledged: boolean,
): StartedDelivery {
  const { id, attempt, carrier, attributes, key, redelivered } = describeDelivery(message);
  const options: TaskAttemptOptions = {
    name: resolveTaskName(settings.taskName, queue, message, queue),
    queue,
    system: MESSAGING_SYSTEM_RABBITMQ,
    id,
    attempt,
    carrier,
    traceMode: settings.traceMode,
    expectedErrors: settings.expectedErrors,
    attributes,
  };
  // A redelivery whose earlier delivery neither runs here nor was handed back from here: the
  // process that had it died (or lost its connection) before settling it. A message with no key
  // (no id, no producer trace context) cannot be told apart and is never taken for lost.
  const ledgerKey = acknowledged && key !== undefined ? `${queue}\n${key}` : undefined;
  if (ledgerKey !== undefined && !ledger.start(ledgerKey) && redelivered) {
    options.previousAttemptLost = { attempt: Math.max(1, attempt - 1), cause: 'redelivered' };
  }
  // Deliveries run in the socket's async context, i.e. wherever the connection was opened:
  // no meaningful parent or link, so the attempt is placed from the carrier alone.
  const started =
    trace.getSpan(context.active()) === undefined
      ? startTaskAttempt(options)
      : context.with(ROOT_CONTEXT, startTaskAttempt, undefined, options);
  return { attempt: started, ledgerKey };
}

/**
 * A handler that runs each delivery as a task attempt: ended on settlement (see
 * settle-instrumentation.ts), or when the handler is done for `noAck` consumers. With no SDK
 * registered it calls the user's handler and nothing else.
 */
function instrumentedHandler(
  settings: InstrumentationSettings,
  deliveries: ChannelDeliveries,
  queue: string,
  onMessage: MessageHandler,
  noAck: boolean,
): MessageHandler {
  return (message) => {
    if (message === null || typeof message !== 'object' || !isTelemetryActive()) {
      return onMessage(message);
    }
    let delivery: Delivery;
    try {
      const { attempt, ledgerKey } = startAttempt(settings, queue, message, !noAck);
      delivery = new Delivery(
        message.fields.deliveryTag,
        queue,
        attempt,
        settings.settleTimeoutMs,
        noAck ? undefined : deliveries,
        ledgerKey === undefined ? undefined : { ledger, key: ledgerKey },
      );
    } catch (error) {
      startFailed.report(error);
      return onMessage(message);
    }
    return delivery.run(onMessage, message, undefined);
  };
}

/**
 * Wraps `consume` of one channel instance: each delivery is a task attempt; `watchQueue` polls
 * the queue's depth.
 */
export function instrumentConsume(
  channel: WrappableChannel,
  settings: InstrumentationSettings,
  deliveries: ChannelDeliveries,
  watchQueue: QueueDepthWatch | undefined,
): void {
  const consume = channel.consume;
  channel.consume = (queue, onMessage, options, ...rest) => {
    watchQueue?.(queue);
    if (typeof onMessage !== 'function') {
      return consume.call(channel, queue, onMessage, options, ...rest);
    }
    const handler = instrumentedHandler(
      consumerSettings(settings, consumerOptions.get(onMessage)),
      deliveries,
      queue,
      onMessage,
      options?.noAck === true,
    );
    return consume.call(channel, queue, handler, options, ...rest);
  };
}
