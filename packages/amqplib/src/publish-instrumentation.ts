import { sendTask } from '@tasklens/core';
import type { SendTaskOptions, TaskCarrier } from '@tasklens/core';
import { LimitedWarning, resolveTaskName } from '@tasklens/core/adapter';
import type { Options } from 'amqplib';
import type { InstrumentationSettings } from './instrumentation-settings.js';
import type { ConfirmCallback, WrappableChannel } from './internal-types.js';
import type { QueueDepthWatch } from './queue-depth.js';
import {
  ATTR_MESSAGING_RABBITMQ_DESTINATION_ROUTING_KEY,
  MESSAGING_SYSTEM_RABBITMQ,
} from './semconv.js';
import type { PublishInfo } from './types.js';

const headersUnwritable = new LimitedWarning('could not add trace context to AMQP headers');
const undescribed = new LimitedWarning('could not describe a publish; it was sent without a span');

type Publish = (options: Options.Publish | undefined, callback?: ConfirmCallback) => boolean;

const ignore = (): void => undefined;

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error('publish failed', { cause: error });
}

function producerOptions(settings: InstrumentationSettings, info: PublishInfo): SendTaskOptions {
  const destination = info.exchange === '' ? info.routingKey : info.exchange;
  const messageId: unknown = info.options?.messageId;
  return {
    name: resolveTaskName(settings.publishTaskName, destination, info, undefined),
    queue: destination,
    system: MESSAGING_SYSTEM_RABBITMQ,
    id: typeof messageId === 'string' ? messageId : undefined,
    attributes: { [ATTR_MESSAGING_RABBITMQ_DESTINATION_ROUTING_KEY]: info.routingKey },
  };
}

/**
 * The caller's options with the carrier added to a copy of their headers: their headers are
 * kept (only the carrier's own keys are overwritten) and their objects are not changed.
 */
function withCarrier(
  options: Options.Publish | undefined,
  carrier: TaskCarrier,
): Options.Publish | undefined {
  try {
    const headers: unknown = options?.headers;
    if (headers === undefined || headers === null) return { ...options, headers: carrier };
    // Headers amqplib cannot encode are left for amqplib to report, as without tasklens.
    if (typeof headers !== 'object' || Array.isArray(headers)) return options;
    return { ...options, headers: { ...headers, ...carrier } };
  } catch (error) {
    headersUnwritable.report(error);
    return options;
  }
}

/**
 * Runs one publish inside a PRODUCER span, returning what amqplib returns and throwing what it
 * throws. With a confirm callback the span lasts until the broker confirms (or nacks).
 */
function publishAsTask(
  settings: InstrumentationSettings,
  info: PublishInfo,
  publish: Publish,
  callback: ConfirmCallback | undefined,
  confirms: boolean,
): boolean {
  let sendOptions: SendTaskOptions;
  try {
    sendOptions = producerOptions(settings, info);
  } catch (error) {
    undescribed.report(error);
    return publish(info.options, callback);
  }
  let published = false;
  let failure: { error: unknown } | undefined;
  const sending = sendTask(sendOptions, ({ carrier }) => {
    const options = withCarrier(info.options, carrier);
    if (!confirms || typeof callback !== 'function') {
      try {
        published = publish(options, callback);
      } catch (error) {
        failure = { error };
        throw error;
      }
      return undefined;
    }
    return new Promise<void>((resolve, reject) => {
      try {
        published = publish(options, (error, ok) => {
          try {
            callback(error, ok);
          } finally {
            if (error === null || error === undefined) resolve();
            else reject(asError(error));
          }
        });
      } catch (error) {
        failure = { error };
        reject(asError(error));
      }
    });
  });
  // The outcome reaches the caller through the return value, the throw or the callback.
  sending.catch(ignore);
  if (failure !== undefined) throw failure.error;
  return published;
}

/** Wraps `publish` and `sendToQueue` of one channel instance; `watchQueue` polls their queue. */
export function instrumentPublishing(
  channel: WrappableChannel,
  settings: InstrumentationSettings,
  watchQueue: QueueDepthWatch | undefined,
): void {
  const originalPublish = channel.publish;
  const originalSendToQueue = channel.sendToQueue;
  // amqplib's sendToQueue calls this.publish: that inner call must not get a second span.
  let insideSendToQueue = false;
  // Only a ConfirmChannel calls the callback; on a plain channel a span waiting for it would leak.
  const confirms = typeof (channel as { waitForConfirms?: unknown }).waitForConfirms === 'function';

  channel.publish = (exchange, routingKey, content, options, callback) => {
    if (insideSendToQueue) {
      return originalPublish.call(channel, exchange, routingKey, content, options, callback);
    }
    if (exchange === '') watchQueue?.(routingKey);
    return publishAsTask(
      settings,
      { exchange, routingKey, options },
      (publishOptions, confirm) =>
        originalPublish.call(channel, exchange, routingKey, content, publishOptions, confirm),
      callback,
      confirms,
    );
  };

  channel.sendToQueue = (queue, content, options, callback) => {
    watchQueue?.(queue);
    return publishAsTask(
      settings,
      { exchange: '', routingKey: queue, options },
      (publishOptions, confirm) => {
        insideSendToQueue = true;
        try {
          return originalSendToQueue.call(channel, queue, content, publishOptions, confirm);
        } finally {
          insideSendToQueue = false;
        }
      },
      callback,
      confirms,
    );
  };
}
