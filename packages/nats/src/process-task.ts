import type { Span } from '@opentelemetry/api';
import type { JsMsg } from '@nats-io/jetstream';
import {
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
  ENQUEUED_AT_KEY,
  isTelemetryActive,
} from '@tasklens/core';
import type { TaskContext } from '@tasklens/core';
import {
  LimitedWarning,
  NEVER_ABORTED,
  NON_RECORDING_SPAN,
  RedeliveryLedger,
  resolveTaskName,
  settleTimeoutMsOf,
  startTaskAttempt,
} from '@tasklens/core/adapter';
import type { TaskAttemptOptions } from '@tasklens/core/adapter';
import { autoSettle, Delivery } from './delivery.js';
import { readIncomingHeaders } from './message-headers.js';
import { MESSAGING_SYSTEM_NATS } from './semconv.js';
import type { JetStreamTaskHandler, ProcessTaskOptions } from './types.js';

const startFailed = new LimitedWarning('could not start a task for a NATS message');

/** The deliveries of this process, to tell a redelivery after a lost attempt. */
const ledger = new RedeliveryLedger();

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

/** The delivery of a message as a task attempt, or undefined when it cannot be started. */
function startDelivery(msg: JsMsg, options: ProcessTaskOptions): Delivery | undefined {
  try {
    const info = msg.info;
    const { carrier, msgId } = readIncomingHeaders(msg);
    const deliveryCount = info.deliveryCount;
    const maxDeliver =
      options.maxDeliver !== undefined && options.maxDeliver > 0 ? options.maxDeliver : undefined;
    const explicitAck = options.ackPolicy !== 'none';
    const attemptOptions: TaskAttemptOptions = {
      name: resolveTaskName(options.taskName ?? options.name, info.stream, msg, undefined),
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
    };
    // A redelivery whose earlier delivery neither runs here nor ended here: it was not
    // acknowledged within the ack wait because the process that had it died (or lost its
    // connection), so JetStream delivered it again.
    const key = explicitAck
      ? `${info.stream}\n${info.consumer}\n${info.streamSequence}`
      : undefined;
    if (key !== undefined && !ledger.start(key) && deliveryCount > 1) {
      attemptOptions.previousAttemptLost = {
        attempt: deliveryCount - 1,
        cause: 'ack_wait_expired',
      };
    }
    return new Delivery(
      startTaskAttempt(attemptOptions),
      msg,
      options.autoAck === true,
      explicitAck,
      maxDeliver !== undefined && deliveryCount >= maxDeliver,
      settleTimeoutMsOf(options.settleTimeoutMs),
      key === undefined ? undefined : { ledger, key },
    );
  } catch (error) {
    startFailed.report(error);
    return undefined;
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
 * const options = await consumerTaskOptions(consumer, { taskName: 'bill-order' });
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
  const delivery = isTelemetryActive() ? startDelivery(msg, options) : undefined;
  if (delivery === undefined) return processUninstrumented(msg, handler, options.autoAck === true);
  try {
    // A handler that returns a value is done now: no extra promise or tick to wait for it.
    return Promise.resolve(delivery.run(handler, msg, delivery.task));
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the handler's own error passes through unchanged
    return Promise.reject(error);
  }
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
    if (autoAck) autoSettle(msg, true);
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
    autoSettle(msg, true);
    throw error;
  }
  autoSettle(msg, false);
  return value;
}
