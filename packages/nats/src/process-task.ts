import { context, INVALID_SPAN_CONTEXT, trace } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import type { JsMsg } from '@nats-io/jetstream';
import { ENQUEUED_AT_KEY, isTelemetryActive, startTaskAttempt } from '@tasklens/core';
import type { TaskContext } from '@tasklens/core';
import { Delivery } from './delivery.js';
import { readIncomingHeaders } from './message-headers.js';
import { ATTR_MESSAGING_CONSUMER_GROUP_NAME, MESSAGING_SYSTEM_NATS } from './semconv.js';
import type { JetStreamTaskHandler, ProcessTaskOptions } from './types.js';
import { warnOnce } from './warn-once.js';

/** JetStream's default `ack_wait`. */
const DEFAULT_SETTLE_TIMEOUT_MS = 30_000;
const NEVER_ABORTED = new AbortController().signal;
const NON_RECORDING_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * The task context of a delivery run with no SDK registered: a span that records nothing, a
 * signal that never aborts, and the delivery count, read only if the handler asks for it.
 */
class UninstrumentedTaskContext implements TaskContext {
  readonly signal = NEVER_ABORTED;
  readonly span: Span = NON_RECORDING_SPAN;

  constructor(private readonly msg: JsMsg) {}

  get attempt(): number {
    try {
      return this.msg.info.deliveryCount;
    } catch {
      return 1;
    }
  }
}

function startDelivery(msg: JsMsg, options: ProcessTaskOptions): Delivery | undefined {
  try {
    const info = msg.info;
    const { carrier, msgId } = readIncomingHeaders(msg);
    const deliveryCount = info.deliveryCount;
    const maxDeliver =
      options.maxDeliver !== undefined && options.maxDeliver > 0 ? options.maxDeliver : undefined;
    const settleTimeoutMs =
      options.settleTimeoutMs !== undefined &&
      Number.isFinite(options.settleTimeoutMs) &&
      options.settleTimeoutMs > 0
        ? options.settleTimeoutMs
        : DEFAULT_SETTLE_TIMEOUT_MS;
    const attempt = startTaskAttempt({
      name: options.name ?? info.stream,
      queue: options.queue ?? info.stream,
      destination: msg.subject,
      system: MESSAGING_SYSTEM_NATS,
      id: msgId ?? String(info.streamSequence),
      attempt: deliveryCount,
      maxAttempts: maxDeliver,
      carrier,
      // Uninstrumented producers: the wait starts when the stream stored the message.
      waitStartedAt:
        carrier?.[ENQUEUED_AT_KEY] === undefined ? info.timestampNanos / 1e6 : undefined,
      traceMode: options.traceMode,
      expectedErrors: options.expectedErrors,
      attributes:
        options.attributes === undefined
          ? { [ATTR_MESSAGING_CONSUMER_GROUP_NAME]: info.consumer }
          : { ...options.attributes, [ATTR_MESSAGING_CONSUMER_GROUP_NAME]: info.consumer },
    });
    const delivery = new Delivery(
      attempt,
      deliveryCount,
      maxDeliver !== undefined && deliveryCount >= maxDeliver,
      settleTimeoutMs,
    );
    delivery.begin(msg, options.ackPolicy !== 'none');
    return delivery;
  } catch (error) {
    warnOnce('could not start a task for a NATS message', error);
    return undefined;
  }
}

/** `autoAck`: settles a message the handler left unsettled. */
function settleForHandler(msg: JsMsg, delivery: Delivery | undefined, failed: boolean): void {
  // Uninstrumented, the client itself ignores a second settlement of the same message.
  if (delivery?.settled === true) return;
  try {
    if (failed) msg.nak();
    else msg.ack();
  } catch (error) {
    warnOnce('could not auto-settle a NATS message', error);
  }
}

/**
 * Runs `handler` for one JetStream delivery as a task attempt: a CONSUMER span `process {stream}`
 * in the producer's trace (or linked to it in `link` mode), attempt = the delivery count, queue
 * wait from the producer's enqueue time (else the time the stream stored the message), and the
 * outcome from how the message is settled: `ack()` success; `nak()` a failed attempt that will
 * be retried (a final failure on the `maxDeliver`-th delivery); `term()` a final failure;
 * `working()` extends the settle timeout. A thrown error is recorded as the attempt's failure.
 * The attempt ends when the handler has finished and the message is settled, or with outcome
 * `timeout` after `settleTimeoutMs` without either. Returns what the handler returns and
 * rejects with what it throws; tasklens itself never throws here. With no SDK registered it only
 * runs the handler (with a non-recording span and a signal that never aborts) and `autoAck`.
 *
 * Works with every way JetStream 3 delivers messages: `consume()` (iterator or callback),
 * `next()`, `fetch()`, push consumers.
 *
 * @example
 * const consumer = await js.consumers.get('ORDERS', 'billing');
 * const options = await consumerTaskOptions(consumer, { name: 'bill-order' });
 * for await (const msg of await consumer.consume({ max_messages: 50 })) {
 *   await processTask(msg, async (msg) => {
 *     await bill(msg.json());
 *     msg.ack();
 *   }, options);
 * }
 */
export function processTask<T>(
  msg: JsMsg,
  handler: JetStreamTaskHandler<T>,
  options: ProcessTaskOptions = {},
): Promise<T> {
  if (!isTelemetryActive()) return processUninstrumented(msg, handler, options.autoAck === true);
  const delivery = startDelivery(msg, options);
  if (delivery === undefined) return processUninstrumented(msg, handler, options.autoAck === true);
  return processDelivery(msg, handler, options.autoAck === true, delivery);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function processDelivery<T>(
  msg: JsMsg,
  handler: JetStreamTaskHandler<T>,
  autoAck: boolean,
  delivery: Delivery,
): Promise<T> {
  let result: Promise<T> | T;
  try {
    result = context.with(delivery.attempt.context, handler, undefined, msg, delivery.task);
  } catch (error) {
    handlerThrew(msg, autoAck, delivery, error);
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the handler's own error passes through unchanged
    return Promise.reject(error);
  }
  // A handler that returns a value is done now: no extra promise or tick to wait for it.
  if (!isPromiseLike(result)) {
    handlerResolved(msg, autoAck, delivery);
    return Promise.resolve(result);
  }
  return endWhenSettled(msg, autoAck, delivery, result);
}

async function endWhenSettled<T>(
  msg: JsMsg,
  autoAck: boolean,
  delivery: Delivery,
  result: PromiseLike<T>,
): Promise<T> {
  let value: T;
  try {
    value = await result;
  } catch (error) {
    handlerThrew(msg, autoAck, delivery, error);
    throw error;
  }
  handlerResolved(msg, autoAck, delivery);
  return value;
}

function handlerThrew(msg: JsMsg, autoAck: boolean, delivery: Delivery, error: unknown): void {
  if (autoAck) settleForHandler(msg, delivery, true);
  delivery.handlerThrew(error);
}

function handlerResolved(msg: JsMsg, autoAck: boolean, delivery: Delivery): void {
  if (autoAck) settleForHandler(msg, delivery, false);
  delivery.handlerResolved();
}

/** With no SDK registered (or a delivery that could not be started): the handler, and autoAck. */
function processUninstrumented<T>(
  msg: JsMsg,
  handler: JetStreamTaskHandler<T>,
  autoAck: boolean,
): Promise<T> {
  let result: Promise<T> | T;
  try {
    result = handler(msg, new UninstrumentedTaskContext(msg));
  } catch (error) {
    if (autoAck) settleForHandler(msg, undefined, true);
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the handler's own error passes through unchanged
    return Promise.reject(error);
  }
  return autoAck ? settleWhenDone(msg, result) : Promise.resolve(result);
}

async function settleWhenDone<T>(msg: JsMsg, result: Promise<T> | T): Promise<T> {
  let value: T;
  try {
    value = await result;
  } catch (error) {
    settleForHandler(msg, undefined, true);
    throw error;
  }
  settleForHandler(msg, undefined, false);
  return value;
}
