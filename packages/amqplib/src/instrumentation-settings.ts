import { settleTimeoutMsOf } from '@tasklens/core/adapter';
import type { TaskNameOption } from '@tasklens/core/adapter';
import type { ExpectedErrors, TraceMode } from '@tasklens/core';
import type { ConsumeMessage } from 'amqplib';
import type { AmqplibInstrumentationOptions, PublishInfo, TaskConsumerOptions } from './types.js';

/** The options of one instrumented channel, defaults applied. */
export interface InstrumentationSettings {
  publishTaskName: TaskNameOption<PublishInfo> | undefined;
  taskName: TaskNameOption<ConsumeMessage, string> | undefined;
  traceMode: TraceMode;
  expectedErrors: ExpectedErrors | undefined;
  settleTimeoutMs: number;
}

/** The one place where defaults are merged. */
export function instrumentationSettings(
  options: AmqplibInstrumentationOptions = {},
): InstrumentationSettings {
  return {
    publishTaskName: options.publishTaskName,
    taskName: options.taskName,
    traceMode: options.traceMode ?? 'parent',
    expectedErrors: options.expectedErrors,

    settleTimeoutMs: settleTimeoutMsOf(options.settleTimeoutMs ?? options.unsettledTimeoutMs),
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
