import type { ExpectedErrors, TraceMode } from '@tasklens/core';
import type { ConsumeMessage } from 'amqplib';
import type { AmqplibInstrumentationOptions, PublishInfo, TaskConsumerOptions } from './types.js';

const DEFAULT_UNSETTLED_TIMEOUT_MS = 300_000;
const DEFAULT_MAX_UNSETTLED_DELIVERIES = 10_000;

/** The options of one instrumented channel, defaults applied. */
export interface InstrumentationSettings {
  publishTaskName: ((publish: PublishInfo) => string) | undefined;
  taskName: ((message: ConsumeMessage, queue: string) => string) | undefined;
  traceMode: TraceMode;
  expectedErrors: ExpectedErrors | undefined;
  unsettledTimeoutMs: number;
  maxUnsettledDeliveries: number;
}

/** The one place where defaults are merged. */
export function instrumentationSettings(
  options: AmqplibInstrumentationOptions = {},
): InstrumentationSettings {
  const timeout = options.unsettledTimeoutMs;
  const maxUnsettled = options.maxUnsettledDeliveries;
  return {
    publishTaskName: options.publishTaskName,
    taskName: options.taskName,
    traceMode: options.traceMode ?? 'parent',
    expectedErrors: options.expectedErrors,
    unsettledTimeoutMs:
      typeof timeout === 'number' && timeout > 0 && Number.isFinite(timeout)
        ? timeout
        : DEFAULT_UNSETTLED_TIMEOUT_MS,
    maxUnsettledDeliveries:
      typeof maxUnsettled === 'number' && Number.isSafeInteger(maxUnsettled) && maxUnsettled > 0
        ? maxUnsettled
        : DEFAULT_MAX_UNSETTLED_DELIVERIES,
  };
}

/** A consumer's settings: its own options over the channel's. */
export function consumerSettings(
  channel: InstrumentationSettings,
  consumer: TaskConsumerOptions | undefined,
): InstrumentationSettings {
  if (consumer === undefined) return channel;
  return {
    ...channel,
    taskName: consumer.taskName ?? channel.taskName,
    traceMode: consumer.traceMode ?? channel.traceMode,
    expectedErrors: consumer.expectedErrors ?? channel.expectedErrors,
  };
}
