import type { Attributes } from '@opentelemetry/api';
import type { JsMsg } from '@nats-io/jetstream';
import type { ExpectedErrors, TaskContext, TraceMode } from '@tasklens/core';
import type { QueueDepthOptions, TaskNameOption } from '@tasklens/core/adapter';

/**
 * Options of the producer side ({@link publishTask}, {@link instrumentJetStream}).
 *
 * The subject goes on the span only (`messaging.destination.name`): subjects often hold ids
 * (`orders.123`), so names and labels use the stream instead.
 */
export interface PublishTaskOptions {
  /**
   * Task name (`task.name`), or a function of the subject giving one. Default `queue`, else the
   * stream named in the broker's ack.
   */
  taskName?: TaskNameOption<string>;
  /** @deprecated The former name of `taskName`. */
  name?: string;
  /**
   * Low-cardinality destination for the span name (`send {queue}`). Default: the stream named
   * in the broker's ack (`send ORDERS`); a publish that gets no ack keeps `send {subject}`.
   */
  queue?: string;
  /** Extra span attributes. */
  attributes?: Attributes;
}

/**
 * How the consumer settles messages, as far as tasklens needs to know.
 * - `explicit` (default; JetStream's AckPolicy explicit): an attempt ends when the handler has
 *   finished and the message is settled (ack, nak, term), or after `settleTimeoutMs`.
 * - `none` (AckPolicy none or all, ordered consumers): an attempt ends when the handler does.
 */
export type JetStreamAckPolicy = 'explicit' | 'none';

/**
 * Options of the consumer side ({@link processTask}); see {@link consumerTaskOptions}, which
 * reads `queueDepth` and `queueDepthIntervalMs` (README: Queue depth).
 */
export interface ProcessTaskOptions extends QueueDepthOptions {
  /** Task name (`task.name`), or a function of the message giving one. Default: its stream. */
  taskName?: TaskNameOption<JsMsg>;
  /** @deprecated The former name of `taskName`. */
  name?: string;
  /**
   * Metric label `task.queue` and span name `process {queue}`. Default: the message's stream
   * (the subject, which may hold ids, stays on the span as `messaging.destination.name`).
   */
  queue?: string;
  /** Relation to the producer's span. Default `parent`. */
  traceMode?: TraceMode;
  /**
   * The consumer's `max_deliver`. When known, the delivery that reaches it is the last: a nak
   * there is a final failure, not a retry. Default unknown (every nak counts as retrying).
   */
  maxDeliver?: number;
  /** See {@link JetStreamAckPolicy}. Default `explicit`. */
  ackPolicy?: JetStreamAckPolicy;
  /**
   * Milliseconds without settlement or `working()` after which an attempt ends with outcome
   * `timeout` and the task's signal aborts (the broker redelivers after its `ack_wait`); checked
   * by one sweeper per process, so the end comes up to a quarter of this (at most 1 s) later.
   * Only with an SDK registered: without one there is no attempt to end. Default 300 000 (5 min),
   * as in every tasklens adapter; {@link consumerTaskOptions} sets it to the consumer's
   * `ack_wait`.
   */
  settleTimeoutMs?: number;
  /**
   * Settle messages the handler leaves unsettled: `ack()` when it resolves, `nak()` when it
   * throws. Default `false` (tasklens never settles a message on its own).
   */
  autoAck?: boolean;
  /** Errors that do not count as failures. */
  expectedErrors?: ExpectedErrors;
  /** Extra span attributes. */
  attributes?: Attributes;
}

/** The function {@link processTask} runs for one delivery. */
export type JetStreamTaskHandler<T> = (msg: JsMsg, task: TaskContext) => Promise<T> | T;
