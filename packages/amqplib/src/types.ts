import type { ExpectedErrors, TraceMode } from '@tasklens/core';
import type { QueueDepthOptions, TaskNameOption } from '@tasklens/core/adapter';
import type { ConsumeMessage, Options } from 'amqplib';

/** What a publish is about, as the producer-side task name function sees it. */
export interface PublishInfo {
  /** The exchange; `''` for the default exchange (and for `sendToQueue`). */
  exchange: string;
  /** The routing key; the queue name for `sendToQueue`. */
  routingKey: string;
  /** The publish options the caller passed, if any. */
  options: Options.Publish | undefined;
}

/** Options of one consumer, set with {@link taskConsumer}; they override the channel's. */
export interface TaskConsumerOptions {
  /**
   * `task.name` of the deliveries: a low-cardinality kind of work, or a function of the message
   * and its queue giving one. Default: the channel's `taskName`, else the queue name.
   */
  taskName?: TaskNameOption<ConsumeMessage, string>;
  /** Relation of each process span to the producer's span. Default: the channel's, else `parent`. */
  traceMode?: TraceMode;
  /** Errors that do not count as failures when a message is nacked after the handler threw them. */
  expectedErrors?: ExpectedErrors;
}

/**
 * Options of {@link instrumentChannel}. Every field is optional. `queueDepth` and
 * `queueDepthIntervalMs`: see the README's Queue depth.
 */
export interface AmqplibInstrumentationOptions extends TaskConsumerOptions, QueueDepthOptions {
  /**
   * `task.name` of the producer spans, or a function of the publish giving one. Default: the
   * destination (the exchange, or the queue for `sendToQueue` and the default exchange).
   */
  publishTaskName?: TaskNameOption<PublishInfo>;
  /**
   * Milliseconds after which a delivery that was never acked, nacked or rejected (or whose
   * handler has not finished) ends its span with outcome `timeout` (the message itself stays
   * with the broker). Default 300000 (5 min), as in every tasklens adapter.
   */
  settleTimeoutMs?: number;
  /** @deprecated The former name of `settleTimeoutMs`. */
  unsettledTimeoutMs?: number;
}
