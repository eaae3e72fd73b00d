import { context, INVALID_SPAN_CONTEXT, trace } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import type { JsMsg } from '@nats-io/jetstream';
import { ENQUEUED_AT_KEY, startTaskAttempt, TaskTimeoutError } from '@tasklens/core';
import type { TaskAttempt, TaskContext } from '@tasklens/core';
import { readIncomingHeaders } from './message-headers.js';
import { ATTR_MESSAGING_CONSUMER_GROUP_NAME, MESSAGING_SYSTEM_NATS } from './semconv.js';
import { JetStreamNakError, JetStreamTermError } from './settlement-errors.js';
import type { JetStreamTaskHandler, ProcessTaskOptions } from './types.js';
import { warnOnce } from './warn-once.js';

/** JetStream's default `ack_wait`. */
const DEFAULT_SETTLE_TIMEOUT_MS = 30_000;
const NEVER_ABORTED = new AbortController().signal;
const NON_RECORDING_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

type Settlement =
  | { kind: 'ack' }
  | { kind: 'nak'; delayMs: number | undefined }
  | { kind: 'term'; reason: string | undefined };

const ACK: Settlement = { kind: 'ack' };

/** The task context of one delivery; its signal is created only when the handler reads it. */
class DeliveryTaskContext implements TaskContext {
  private controller: AbortController | undefined;

  constructor(
    readonly attempt: number,
    readonly span: Span,
  ) {}

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    this.controller?.abort(reason);
  }
}

/** One delivery of a message: its attempt, how the handler ended and how the message settled. */
class Delivery {
  private settlement: Settlement | undefined;
  private handlerDone = false;
  private handlerFailed = false;
  private handlerError: unknown;
  private timer: NodeJS.Timeout | undefined;
  private awaitSettlement = false;

  constructor(
    readonly attempt: TaskAttempt,
    readonly task: DeliveryTaskContext,
    private readonly lastDelivery: boolean,
    private readonly settleTimeoutMs: number,
  ) {}

  /** With `awaitSettlement`, the attempt lasts until the message is settled or times out. */
  begin(awaitSettlement: boolean): void {
    this.awaitSettlement = awaitSettlement;
    if (awaitSettlement) {
      this.timer = setTimeout(() => this.timeOut(), this.settleTimeoutMs).unref();
    }
  }

  get settled(): boolean {
    return this.settlement !== undefined;
  }

  settle(settlement: Settlement): void {
    if (this.settlement !== undefined) return;
    this.settlement = settlement;
    if (this.handlerDone) this.finish();
  }

  /** `working()`: the broker restarts its ack wait, so does the settle timeout. */
  extend(): void {
    if (this.settlement === undefined && !this.attempt.ended) this.timer?.refresh();
  }

  handlerResolved(): void {
    this.handlerDone = true;
    if (this.settlement !== undefined || !this.awaitSettlement) this.finish();
  }

  handlerThrew(error: unknown): void {
    this.handlerDone = true;
    this.handlerFailed = true;
    this.handlerError = error;
    this.finish();
  }

  private finish(): void {
    clearTimeout(this.timer);
    const { attempt, settlement } = this;
    // Unsettled under an explicit ack policy, the broker redelivers after its ack wait.
    const redelivered =
      settlement?.kind === 'nak' || (settlement === undefined && this.awaitSettlement);
    if (this.handlerFailed) {
      attempt.fail(this.handlerError, { willRetry: redelivered && !this.lastDelivery });
    } else if (settlement === undefined || settlement.kind === 'ack') {
      attempt.succeed();
    } else if (settlement.kind === 'nak') {
      attempt.fail(new JetStreamNakError(settlement.delayMs), { willRetry: !this.lastDelivery });
    } else {
      attempt.fail(new JetStreamTermError(settlement.reason), { willRetry: false });
    }
  }

  private timeOut(): void {
    if (this.attempt.ended) return;
    const error = new TaskTimeoutError(this.settleTimeoutMs);
    this.attempt.timeOut(error, { willRetry: !this.lastDelivery });
    this.task.abort(error);
  }
}

/**
 * Routes the message's settlement calls through `delivery` (after the client's own call, so a
 * call that throws records nothing). Returns false when the message cannot be patched.
 */
function watchSettlement(msg: JsMsg, delivery: Delivery): boolean {
  try {
    const ack = msg.ack.bind(msg);
    const ackAck = msg.ackAck.bind(msg);
    const next = msg.next.bind(msg);
    const nak = msg.nak.bind(msg);
    const term = msg.term.bind(msg);
    const working = msg.working.bind(msg);
    msg.ack = () => {
      ack();
      delivery.settle(ACK);
    };
    msg.ackAck = (options) => {
      const acked = ackAck(options);
      delivery.settle(ACK);
      return acked;
    };
    msg.next = (subject, options) => {
      next(subject, options);
      delivery.settle(ACK);
    };
    msg.nak = (millis) => {
      nak(millis);
      delivery.settle({ kind: 'nak', delayMs: millis });
    };
    msg.term = (reason) => {
      term(reason);
      delivery.settle({ kind: 'term', reason });
    };
    msg.working = () => {
      working();
      delivery.extend();
    };
    return true;
  } catch (error) {
    warnOnce('cannot observe how a NATS message is settled', error);
    return false;
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
      new DeliveryTaskContext(deliveryCount, attempt.span),
      maxDeliver !== undefined && deliveryCount >= maxDeliver,
      settleTimeoutMs,
    );
    const watched = watchSettlement(msg, delivery);
    delivery.begin(watched && options.ackPolicy !== 'none');
    return delivery;
  } catch (error) {
    warnOnce('could not start a task for a NATS message', error);
    return undefined;
  }
}

function settleForHandler(msg: JsMsg, delivery: Delivery, failed: boolean): void {
  if (delivery.settled) return;
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
 * rejects with what it throws; tasklens itself never throws here.
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
export async function processTask<T>(
  msg: JsMsg,
  handler: JetStreamTaskHandler<T>,
  options: ProcessTaskOptions = {},
): Promise<T> {
  const delivery = startDelivery(msg, options);
  if (delivery === undefined) {
    return handler(msg, { signal: NEVER_ABORTED, attempt: 1, span: NON_RECORDING_SPAN });
  }
  let result: T;
  try {
    result = await context.with(delivery.attempt.context, () => handler(msg, delivery.task));
  } catch (error) {
    if (options.autoAck === true) settleForHandler(msg, delivery, true);
    delivery.handlerThrew(error);
    throw error;
  }
  if (options.autoAck === true) settleForHandler(msg, delivery, false);
  delivery.handlerResolved();
  return result;
}
