import { context, diag, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes, Context, Counter, Link, Span, SpanContext } from '@opentelemetry/api';
import { extractTaskCarrier } from './carrier.js';
import { processParentContext } from './env-carrier.js';
import { recordLostAttempt } from './lost-attempt.js';
import { pipelineStartOf, withPipelineStart } from './pipeline-start.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_TASK_ATTEMPT,
  ATTR_TASK_EXPECTED_ERROR,
  ATTR_TASK_ID,
  ATTR_TASK_MAX_ATTEMPTS,
  ATTR_TASK_NAME,
  ATTR_TASK_OUTCOME,
  ATTR_TASK_RETRYING,
  ATTR_TASK_WAIT_DURATION,
  MESSAGING_OPERATION_TYPE_PROCESS,
} from './semconv.js';
import { asException, errorTypeOf, isExpectedError } from './task-errors.js';
import { currentTaskInstruments } from './task-metrics.js';
import { taskSeries } from './task-series.js';
import { currentTaskTracer } from './task-tracer.js';
import type { RecordSource } from './task-histograms.js';
import type { TaskSeries } from './task-series.js';
import type { TaskAttemptOptions, TaskOutcome } from './types.js';

/**
 * One attempt of a task, from start to outcome: its span, its context (run the task's code in
 * it) and the calls that end it. Ending is idempotent: only the first call counts.
 */
export interface TaskAttempt {
  readonly span: Span;
  /** The context with this attempt's span active. */
  readonly context: Context;
  readonly attempt: number;
  readonly ended: boolean;
  /** Ends the attempt with outcome `success`. */
  succeed(): void;
  /**
   * Ends the attempt with the error: outcome `failure` (or `success` when the error is an
   * expected one). `willRetry` marks a failed attempt that the queue will retry.
   */
  fail(error: unknown, options?: { willRetry?: boolean }): void;
  /** Ends the attempt with outcome `cancelled`. */
  cancel(): void;
  /** Ends the attempt with outcome `timeout`; `error` is recorded as its exception. */
  timeOut(error: unknown, options?: { willRetry?: boolean }): void;
}

function spanAttributes(options: TaskAttemptOptions, attempt: number): Attributes {
  const attributes: Attributes =
    options.attributes === undefined ? {} : Object.assign({}, options.attributes);
  attributes[ATTR_TASK_NAME] = options.name;
  attributes[ATTR_TASK_ATTEMPT] = attempt;
  if (options.maxAttempts !== undefined) attributes[ATTR_TASK_MAX_ATTEMPTS] = options.maxAttempts;
  if (options.id !== undefined) attributes[ATTR_TASK_ID] = options.id;
  if (options.system !== undefined) {
    attributes[ATTR_MESSAGING_SYSTEM] = options.system;
    attributes[ATTR_MESSAGING_OPERATION_TYPE] = MESSAGING_OPERATION_TYPE_PROCESS;
    if (options.id !== undefined) attributes[ATTR_MESSAGING_MESSAGE_ID] = options.id;
  }
  const destination = options.destination ?? options.queue;
  if (destination !== undefined) attributes[ATTR_MESSAGING_DESTINATION_NAME] = destination;
  return attributes;
}

/** The parent of a span and its links (undefined for none: the SDK owns the array it gets). */
interface Placement {
  parent: Context;
  links: Link[] | undefined;
}

function withBaggageOf(target: Context, source: Context | undefined): Context {
  const baggage = source === undefined ? undefined : propagation.getBaggage(source);
  return baggage === undefined ? target : propagation.setBaggage(target, baggage);
}

/** Where the attempt's span goes, from the carrier, the trace mode and the ambient span. */
function placeSpan(options: TaskAttemptOptions, producer: Context | undefined): Placement {
  const ambient = context.active();
  const ambientSpanContext = trace.getSpanContext(ambient);
  const local = ambientSpanContext !== undefined ? ambient : (processParentContext() ?? ambient);
  if (producer === undefined) return { parent: local, links: undefined };
  const producerSpanContext = trace.getSpanContext(producer);
  if (producerSpanContext === undefined) {
    return { parent: withBaggageOf(local, producer), links: undefined };
  }
  if (options.traceMode === 'link') {
    return { parent: withBaggageOf(local, producer), links: [{ context: producerSpanContext }] };
  }
  return {
    parent: producer,
    links: ambientSpanContext === undefined ? undefined : [{ context: ambientSpanContext }],
  };
}

/**
 * The start of the task chain an attempt belongs to: an explicit `pipelineStartedAt`; for a
 * message, its carrier's (a message without one starts no chain); for an in-process task, the
 * chain it runs in (the active context's, else the one the process was started in). An in-process
 * task outside any chain is in none: it records no pipeline duration, and a message it sends
 * starts a chain at its enqueue time.
 */
function chainStartOf(
  options: TaskAttemptOptions,
  fromQueue: boolean,
  carried: number | undefined,
): number | undefined {
  if (options.pipelineStartedAt !== undefined) {
    return Number.isFinite(options.pipelineStartedAt) ? options.pipelineStartedAt : undefined;
  }
  if (fromQueue) return carried;
  return pipelineStartOf(context.active()) ?? pipelineStartOf(processParentContext());
}

/**
 * One attempt's recording; a class so that the per-task cost is one small object. It is also the
 * {@link RecordSource} of its histogram records: one clock read at the start and one at the end
 * serve every value (and exemplar) recorded then.
 */
class RecordedTaskAttempt implements TaskAttempt, RecordSource {
  readonly span: Span;
  readonly context: Context;
  readonly spanContext: SpanContext;
  /** When the attempt started, then when it ended (ms since the epoch). */
  timeMs = Date.now();
  private done = false;
  private readonly startTime = performance.now();
  private readonly instruments = currentTaskInstruments();
  private readonly series: TaskSeries;
  /** When the task chain of this attempt started (ms since the epoch); none outside a chain. */
  private readonly pipelineStartedAt: number | undefined;

  constructor(
    private readonly options: TaskAttemptOptions,
    readonly attempt: number,
  ) {
    this.series = taskSeries(options.name, options.queue, options.system);
    const carried =
      options.carrier === undefined ? undefined : extractTaskCarrier(options.carrier, options.name);
    const placement = placeSpan(options, carried?.context);
    const fromQueue = options.system !== undefined || options.carrier !== undefined;
    const attributes = spanAttributes(options, attempt);
    const spanName =
      options.spanName ?? (options.queue === undefined ? options.name : `process ${options.queue}`);
    const waitStartedAt = options.waitStartedAt ?? carried?.enqueuedAt;
    if (options.previousAttemptLost !== undefined) {
      const { parent, links } = placement;
      recordLostAttempt(
        options.previousAttemptLost,
        { spanName, attributes, parent, links, waitStartedAt },
        this.series,
        this.instruments,
      );
    }
    const waitSeconds =
      waitStartedAt === undefined || !Number.isFinite(waitStartedAt)
        ? undefined
        : this.secondsSince(waitStartedAt, this.instruments?.waitClockSkew);
    // Given with the others rather than set afterwards: the SDK checks each attribute it is given.
    if (waitSeconds !== undefined) attributes[ATTR_TASK_WAIT_DURATION] = waitSeconds;
    this.span = currentTaskTracer().startSpan(
      spanName,
      {
        kind: fromQueue ? SpanKind.CONSUMER : SpanKind.INTERNAL,
        attributes,
        links: placement.links,
      },
      placement.parent,
    );
    this.spanContext = this.span.spanContext();
    this.pipelineStartedAt = chainStartOf(options, fromQueue, carried?.pipelineStartedAt);
    this.context = withPipelineStart(
      trace.setSpan(placement.parent, this.span),
      this.pipelineStartedAt,
    );
    if (waitSeconds !== undefined) this.instruments?.recordWait(this.series, waitSeconds, this);
    this.series.active.value = (this.series.active.value ?? 0) + 1;
  }

  get ended(): boolean {
    return this.done;
  }

  succeed(): void {
    this.end('success', undefined, false);
  }

  fail(error: unknown, options?: { willRetry?: boolean }): void {
    if (this.done) return;
    if (isExpectedError(error, this.options.expectedErrors)) {
      this.span.setAttribute(ATTR_TASK_EXPECTED_ERROR, true);
      this.span.recordException(asException(error));
      this.end('success', undefined, false);
      return;
    }
    this.end('failure', error, options?.willRetry === true);
  }

  cancel(): void {
    this.end('cancelled', undefined, false);
  }

  timeOut(error: unknown, options?: { willRetry?: boolean }): void {
    this.end('timeout', error, options?.willRetry === true);
  }

  /**
   * Seconds from `fromMs` (another process's clock) to `timeMs`; a time in the future is clock
   * skew, counted in `skew`, and gives zero.
   */
  private secondsSince(fromMs: number, skew: Counter | undefined): number {
    const ms = this.timeMs - fromMs;
    if (ms >= 0) return ms / 1000;
    skew?.add(1, this.series.lastSuccess.attributes);
    return 0;
  }

  private end(outcome: TaskOutcome, error: unknown, willRetry: boolean): void {
    if (this.done) return;
    this.done = true;
    const { span, series, instruments } = this;
    try {
      this.timeMs = Date.now();
      const seconds = (performance.now() - this.startTime) / 1000;
      let errorType: string | undefined;
      span.setAttribute(ATTR_TASK_OUTCOME, outcome);
      if (outcome === 'failure' || outcome === 'timeout') {
        errorType = errorTypeOf(error);
        const exception = asException(error);
        span.setAttribute(ATTR_ERROR_TYPE, errorType);
        span.recordException(exception);
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: typeof exception === 'string' ? exception : exception.message,
        });
        if (willRetry) {
          span.setAttribute(ATTR_TASK_RETRYING, true);
          instruments?.retries.add(1, series.activeAttributes);
        }
      }
      instruments?.recordDuration(series, outcome, errorType, seconds, this);
      if (this.pipelineStartedAt !== undefined && instruments !== undefined) {
        const chain = this.secondsSince(this.pipelineStartedAt, instruments.pipelineClockSkew);
        instruments.recordPipeline(series, outcome, chain, this);
      }
      series.active.value = (series.active.value ?? 1) - 1;
      if (outcome === 'success') series.lastSuccess.value = this.timeMs / 1000;
      span.end();
    } catch (instrumentationError) {
      diag.error('tasklens: could not record the end of a task attempt', instrumentationError);
    }
  }
}

/**
 * Starts one attempt of a task: the span (CONSUMER for messages, INTERNAL for in-process tasks),
 * queue wait, in-flight count. Adapters call this where a delivery starts and end it where the
 * message is settled. Never throws.
 *
 * @example
 * const attempt = startTaskAttempt({ name: 'resize', queue: 'images', system: 'rabbitmq', carrier: msg.properties.headers });
 * try { await context.with(attempt.context, () => handle(msg)); attempt.succeed(); }
 * catch (error) { attempt.fail(error, { willRetry: true }); }
 */
export function startTaskAttempt(options: TaskAttemptOptions): TaskAttempt {
  return new RecordedTaskAttempt(options, options.attempt ?? 1);
}

/** {@link startTaskAttempt} with the attempt number given apart, sparing a copy of the options. */
export function startNumberedTaskAttempt(
  options: TaskAttemptOptions,
  attempt: number,
): TaskAttempt {
  return new RecordedTaskAttempt(options, attempt);
}
