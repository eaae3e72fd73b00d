import { diag } from '@opentelemetry/api';
import type { Channel } from 'amqplib';
import { instrumentConsume } from './consume-instrumentation.js';
import { instrumentQueueDeclarations } from './dead-letter-queues.js';
import { ChannelDeliveries } from './delivery.js';
import { instrumentationSettings } from './instrumentation-settings.js';
import type { WrappableChannel } from './internal-types.js';
import { instrumentPublishing } from './publish-instrumentation.js';
import { queueDepthWatch } from './queue-depth.js';
import { instrumentSettlement } from './settle-instrumentation.js';
import type { AmqplibInstrumentationOptions } from './types.js';

const instrumented = new WeakSet<object>();

/**
 * Instruments one amqplib channel (or ConfirmChannel) in place and returns it: your code keeps
 * calling `channel.publish`, `sendToQueue`, `consume`, `ack`, `nack`, `reject`, `ackAll` and
 * `nackAll` as before.
 *
 * - `publish` / `sendToQueue`: a PRODUCER span `send {exchange or queue}`, and the trace context
 *   and enqueue time added to a copy of the message's headers (yours are kept). On a
 *   ConfirmChannel with a callback, the span lasts until the broker confirms.
 * - `consume`: one CONSUMER span `process {queue}` per delivery, in the producer's trace (or
 *   linked to it with `traceMode: 'link'`), ended on settlement: ack → `success`; nack or
 *   reject → `failure` (retrying when requeued); never settled within `settleTimeoutMs` →
 *   `timeout`; channel or connection closed first → `cancelled`. With `noAck`, the span ends
 *   when the handler returns (or its promise settles).
 *
 * Instrumenting a channel twice changes nothing; failures of the instrumentation are reported
 * through `diag` and never thrown into your code.
 *
 * @param channel - A channel from `connection.createChannel()` or `createConfirmChannel()`.
 * @param options - Task names, trace mode and the settle timeout; all optional.
 * @returns The same channel.
 *
 * @example
 * import amqp from 'amqplib';
 * import { instrumentChannel } from '@tasklens/amqplib';
 *
 * const connection = await amqp.connect('amqp://localhost');
 * const channel = instrumentChannel(await connection.createChannel());
 * await channel.assertQueue('emails');
 * channel.sendToQueue('emails', Buffer.from(JSON.stringify({ to: 'a@example.com' })));
 * await channel.consume('emails', async (message) => {
 *   if (message === null) return;
 *   await sendEmail(JSON.parse(message.content.toString()));
 *   channel.ack(message);
 * });
 */
export function instrumentChannel<C extends Channel>(
  channel: C,
  options?: AmqplibInstrumentationOptions,
): C {
  if (typeof channel !== 'object' || channel === null || instrumented.has(channel)) return channel;
  try {
    const settings = instrumentationSettings(options);
    const wrappable = channel as unknown as WrappableChannel;
    const watchQueue = queueDepthWatch(wrappable, options ?? {});
    instrumentPublishing(wrappable, settings, watchQueue);
    const deliveries = new ChannelDeliveries();
    instrumentConsume(wrappable, settings, deliveries, watchQueue);
    instrumentSettlement(wrappable, deliveries);
    instrumentQueueDeclarations(wrappable);
    instrumented.add(channel);
  } catch (error) {
    diag.error('tasklens: could not instrument an amqplib channel', error);
  }
  return channel;
}
