import { context, diag, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes, Context, Link, Span } from '@opentelemetry/api';
import { extractTaskCarrier } from './carrier.js';
import { processParentContext } from './env-carrier.js';
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
import { currentTaskInstruments, taskSeries } from './task-metrics.js';
import type { TaskInstruments, TaskSeries } from './task-metrics.js';
import { SCOPE_NAME, SCOPE_VERSION } from './version.js';
import type { TaskAttemptOptions, TaskOutcome } from './types.js';

/** The tracer of tasklens spans: a proxy that follows whichever SDK registers, even later. */
export const taskTracer = trace.getTracer(SCOPE_NAME, SCOPE_VERSION);

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
  const attributes: Attributes = { ...options.attributes, [ATTR_TASK_NAME]: options.name };
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

interface Placement {
  parent: Context;
  links: Link[];
}

/** Where the attempt's span goes: parent and links, from the carrier, the trace mode and the ambient span. */
function placeSpan(options: TaskAttemptOptions, producer: Context | undefined): Placement {
  const ambient = context.active();
  const ambientSpanContext = trace.getSpanContext(ambient);
  const producerSpanContext = producer === undefined ? undefined : trace.getSpanContext(producer);
  const local = ambientSpanContext !== undefined ? ambient : (processParentContext() ?? ambient);
  if (producer === undefined || producerSpanContext === undefined) {
    const baggage = producer === undefined ? undefined : propagation.getBaggage(producer);
    return {
      parent: baggage === undefined ? local : propagation.setBaggage(local, baggage),
      links: [],
    };
  }
  if (options.traceMode === 'link') {
    const baggage = propagation.getBaggage(producer);
    return {
      parent: baggage === undefined ? local : propagation.setBaggage(local, baggage),
      links: [{ context: producerSpanContext }],
    };
  }
  return {
    parent: producer,
    links: ambientSpanContext === undefined ? [] : [{ context: ambientSpanContext }],
  };
}

function recordWait(
  instruments: TaskInstruments | undefined,
  span: Span,
  series: TaskSeries,
  waitStartedAt: number | undefined,
  startedAt: number,
): void {
  if (waitStartedAt === undefined || !Number.isFinite(waitStartedAt)) return;
  let waitMs = startedAt - waitStartedAt;
  if (waitMs < 0) {
    instruments?.waitClockSkew.add(1, series.lastSuccess.attributes);
    waitMs = 0;
  }
  const seconds = waitMs / 1000;
  instruments?.waitDuration.record(seconds, series.attributes);
  span.setAttribute(ATTR_TASK_WAIT_DURATION, seconds);
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
  const startedAt = Date.now();
  const startTime = performance.now();
  const attemptNumber = options.attempt ?? 1;
  const instruments = currentTaskInstruments();
  const series = taskSeries(options.name, options.queue, options.system);

  const carried =
    options.carrier === undefined ? undefined : extractTaskCarrier(options.carrier, options.name);
  const placement = placeSpan(options, carried?.context);
  const fromQueue = options.system !== undefined || options.carrier !== undefined;
  const span = taskTracer.startSpan(
    options.spanName ?? (options.queue === undefined ? options.name : `process ${options.queue}`),
    {
      kind: fromQueue ? SpanKind.CONSUMER : SpanKind.INTERNAL,
      attributes: spanAttributes(options, attemptNumber),
      links: placement.links,
    },
    placement.parent,
  );
  const spanContext = trace.setSpan(placement.parent, span);
  recordWait(instruments, span, series, options.waitStartedAt ?? carried?.enqueuedAt, startedAt);
  series.active.value = (series.active.value ?? 0) + 1;

  let ended = false;
  const end = (outcome: TaskOutcome, error: unknown, willRetry: boolean): void => {
    if (ended) return;
    ended = true;
    try {
      const seconds = (performance.now() - startTime) / 1000;
      let outcomeAttributes =
        outcome === 'success' ? series.successAttributes : series.cancelledAttributes;
      span.setAttribute(ATTR_TASK_OUTCOME, outcome);
      if (outcome === 'failure' || outcome === 'timeout') {
        const errorType = errorTypeOf(error);
        const exception = asException(error);
        outcomeAttributes = {
          ...series.attributes,
          [ATTR_TASK_OUTCOME]: outcome,
          [ATTR_ERROR_TYPE]: errorType,
        };
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
      instruments?.duration.record(seconds, outcomeAttributes);
      series.active.value = (series.active.value ?? 1) - 1;
      if (outcome === 'success') series.lastSuccess.value = Date.now() / 1000;
      span.end();
    } catch (instrumentationError) {
      diag.error('tasklens: could not record the end of a task attempt', instrumentationError);
    }
  };

  return {
    span,
    context: spanContext,
    attempt: attemptNumber,
    get ended() {
      return ended;
    },
    succeed: () => end('success', undefined, false),
    fail: (error, failOptions) => {
      if (ended) return;
      if (isExpectedError(error, options.expectedErrors)) {
        span.setAttribute(ATTR_TASK_EXPECTED_ERROR, true);
        span.recordException(asException(error));
        end('success', undefined, false);
        return;
      }
      end('failure', error, failOptions?.willRetry === true);
    },
    cancel: () => end('cancelled', undefined, false),
    timeOut: (error, timeoutOptions) => end('timeout', error, timeoutOptions?.willRetry === true),
  };
}
