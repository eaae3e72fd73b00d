import type { Attributes, Span } from '@opentelemetry/api';

/**
 * How a task attempt ended. `lost`: its process died before it ended (found when the broker
 * delivered the task again), recorded by the attempt that came next.
 */
export type TaskOutcome = 'success' | 'failure' | 'cancelled' | 'timeout' | 'lost';

/**
 * How a lost attempt was found, its `error.type`: BullMQ moved the job back to wait because its
 * lock expired (`stalled`), RabbitMQ redelivered a message no consumer of this process settled
 * (`redelivered`), JetStream redelivered a message not acknowledged within its consumer's ack
 * wait (`ack_wait_expired`).
 */
export type LostAttemptCause = 'stalled' | 'redelivered' | 'ack_wait_expired';

/**
 * An earlier attempt of a delivered task that never ended: its process died (or lost its
 * connection) while it ran. Times are milliseconds since the epoch; brokers keep neither, so they
 * are estimates unless said otherwise, flagged on the span (`task.lost.start_estimated`,
 * `task.lost.end_estimated`).
 */
export interface LostAttempt {
  /** The lost attempt's number, 1-based. */
  attempt: number;
  cause: LostAttemptCause;
  /**
   * When it started. Default: the earliest it can have: when the task became due or was
   * enqueued (`waitStartedAt`, else the carrier's enqueue time), else when the loss was found.
   */
  startedAt?: number;
  /** `startedAt` is the exact start, not a bound. Default false. */
  startExact?: boolean;
  /** When it ended. Default: the latest it can have: now, when the loss was found. */
  endedAt?: number;
  /** `endedAt` is the exact end, not a bound. Default false. */
  endExact?: boolean;
}

/**
 * How a consumer's process span relates to the producer's context found in a carrier.
 * - `parent` (default): the process span is a child of the producer span (one trace), and links
 *   to the ambient span when one is active.
 * - `link`: the process span starts in the ambient trace (or a new trace) and links to the
 *   producer span: for fan-out, long chains and scheduled jobs.
 */
export type TraceMode = 'parent' | 'link';

/**
 * Errors that are part of normal operation and must not count as failures: a predicate, or
 * a list of error classes matched with `instanceof`.
 */
export type ExpectedErrors =
  ((error: unknown) => boolean) | ReadonlyArray<abstract new (...args: never[]) => unknown>;

/**
 * A plain object carrying trace context, baggage, the enqueue time and the start of the task
 * chain across a queue or a process boundary. Keys: `traceparent`, `tracestate`, `baggage`,
 * `tasklens-enqueued-at` and `tasklens-pipeline-started-at` (milliseconds since the epoch, as
 * decimal strings).
 */
export type TaskCarrier = Record<string, string>;

/** What every task, produced or consumed, is described by. */
export interface TaskIdentity {
  /** The kind of work, low cardinality (`send-email`): span attribute and metric label `task.name`. */
  name: string;
  /** Queue, stream or subject the task travels through: metric label `task.queue`. */
  queue?: string;
  /** The messaging system (`bullmq`, `rabbitmq`, `nats`): `messaging.system`. */
  system?: string;
  /**
   * The span's `messaging.destination.name` when it differs from `queue`: a subject or routing
   * key that may hold ids (`orders.123`), kept off metric labels. Default `queue`.
   */
  destination?: string;
  /** The task or message id: a span attribute only, never a metric label. */
  id?: string;
  /** Extra span attributes (never added to metrics). */
  attributes?: Attributes;
}

/** How a task's span is placed and its errors judged: shared by user and adapter options. */
export interface TaskSpanOptions extends TaskIdentity {
  /** Errors that do not count as failures. */
  expectedErrors?: ExpectedErrors;
  /** Span name. Default `process {queue}` for queue tasks, the task name otherwise. */
  spanName?: string;
}

/**
 * Options of one task attempt as a transport starts it (`@tasklens/core/adapter`): what came
 * with the message besides the task's identity.
 */
export interface TaskAttemptOptions extends TaskSpanOptions {
  /** Attempt number, 1-based. Default 1. */
  attempt?: number;
  /** How many attempts the task may have in all, when known. */
  maxAttempts?: number;
  /** Carrier found in the message; missing, malformed or hostile carriers give a new root trace. */
  carrier?: unknown;
  /**
   * When the task started to wait, in milliseconds since the epoch: overrides the carrier's
   * enqueue time (a delayed job waits from when it became due).
   */
  waitStartedAt?: number;
  /**
   * When the task chain this attempt belongs to started, in milliseconds since the epoch:
   * overrides the carrier's (each run of a scheduled job starts its own chain when it is due).
   */
  pipelineStartedAt?: number;
  /** Relation to the producer's context. Default `parent`. */
  traceMode?: TraceMode;
  /**
   * The attempt before this one, when the delivery shows that it never ended: recorded as a span
   * with outcome `lost` next to this attempt's, and counted with the failures.
   */
  previousAttemptLost?: LostAttempt;
}

/** Options of {@link runTask}. */
export interface RunTaskOptions extends TaskSpanOptions {
  /** Attempts in all: `runTask` retries a failed function until they are used up. Default 1. */
  attempts?: number;
  /** Delay before a retry: milliseconds, or a function of the attempt that failed. Default 0. */
  backoff?: number | ((failedAttempt: number) => number);
  /**
   * Whether a failure will be retried by someone else (a scheduler that runs the task again).
   * A failed attempt that will be retried is marked `task.retrying` and counted in `task.retries`.
   */
  willRetry?: boolean | ((error: unknown) => boolean);
  /** Milliseconds after which an attempt ends with outcome `timeout` and its signal aborts. */
  timeoutMs?: number;
  /** Cancels the task: the attempt ends with outcome `cancelled`, rejecting with the reason. */
  signal?: AbortSignal;
}

/** Options of `runTaskAttempt` (`@tasklens/core/adapter`): a delivered task run as a function. */
export interface RunTaskAttemptOptions extends RunTaskOptions, TaskAttemptOptions {}

/** What the task function receives. */
export interface TaskContext {
  /** Aborts on cancel and on timeout: pass it to what the task awaits. */
  signal: AbortSignal;
  /** Attempt number, 1-based. */
  attempt: number;
  /** The attempt's span (non-recording when no SDK is registered). */
  span: Span;
}

/** Options of the producer side ({@link sendTask}). */
export interface SendTaskOptions extends TaskIdentity {
  /** Span name. Default `send {queue}` (or `send {name}` without a queue). */
  spanName?: string;
}
