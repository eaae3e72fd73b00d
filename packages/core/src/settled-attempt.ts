import { context } from '@opentelemetry/api';
import type { Attributes, Span } from '@opentelemetry/api';
import { openAttempts } from './open-attempts.js';
import type { ExpiringAttempt } from './open-attempts.js';
import { isPromiseLike } from './promise-like.js';
import type { RedeliveryLedger } from './redelivery-ledger.js';
import { ATTR_TASK_REQUEUE, ATTR_TASK_SETTLEMENT } from './semconv.js';
import type { TaskAttempt } from './task-attempt.js';
import { asException, TaskTimeoutError } from './task-errors.js';
import type { TaskContext } from './types.js';

/** How a consumer settled a message, as the adapter saw the client's call. */
export interface Settlement {
  /** The client's call (`ack`, `nack`, `reject`, `nak`, `term`): span attribute `task.settlement`. */
  readonly verb: string;
  /**
   * Set for a negative settlement: the error the attempt fails with when the handler threw none
   * (a nack after a handler that returned normally). Unset: the message was consumed (success).
   */
  readonly rejection?: Error;
  /** A negative settlement that has the broker deliver the message again: `task.requeue`. */
  readonly requeue?: boolean;
  /** Adapter-specific span attributes of the settlement. */
  readonly attributes?: Attributes;
}

/** How a {@link SettledAttempt} ends. */
export interface SettledAttemptOptions {
  /**
   * Milliseconds without settlement (or `extend()`) after which an attempt that awaits its
   * settlement ends with outcome `timeout` and its task's signal aborts.
   */
  settleTimeoutMs: number;
  /** The broker will not deliver this message again (its delivery limit is reached). */
  lastDelivery?: boolean;
  /**
   * After the handler throws, wait for the settlement (`true`: the message stays with the
   * consumer, as RabbitMQ keeps an unacked one, and its error handling may still settle it) or
   * end the attempt at once as a failure (`false`: the broker redelivers it on its own, as
   * JetStream does after its ack wait).
   */
  settleAfterHandlerError: boolean;
  /**
   * Where the adapter started this delivery of the message `key` (see
   * {@link RedeliveryLedger.start}): its end is noted there, with whether the broker may deliver
   * the message again.
   */
  redelivery?: { ledger: RedeliveryLedger; key: string };
}

/** Settle timeout when an adapter's option gives none: 5 minutes. */
export const DEFAULT_SETTLE_TIMEOUT_MS = 300_000;

/** A `settleTimeoutMs` option made usable: a positive finite number, else the default. */
export function settleTimeoutMsOf(option: unknown): number {
  return typeof option === 'number' && option > 0 && Number.isFinite(option)
    ? option
    : DEFAULT_SETTLE_TIMEOUT_MS;
}

const RUNNING = 0;
const RETURNED = 1;
const THREW = 2;

/** The task context a handler sees; its signal is created only when the handler reads it. */
class SettledTaskContext implements TaskContext {
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

/**
 * One delivery of a message as a task attempt that ends on the message's settlement: adapters
 * start the attempt, run the handler through {@link SettledAttempt.run}, and report the client's
 * settlement calls to {@link SettledAttempt.settle}. The attempt ends once the handler has
 * finished and, when {@link SettledAttempt.awaitSettlement} was called, the message is settled;
 * or with outcome `timeout` when the settlement does not come in time (one sweeper for the whole
 * process); or as cancelled when the adapter learns the message went back to the broker.
 *
 * The outcome: a positive settlement is a success (with the handler's error recorded if it threw
 * one); a negative one a failure with the handler's error (or the settlement's), retried when the
 * broker requeues it; no settlement the handler's result. Subclasses hook in with
 * {@link SettledAttempt.handlerEnding} (e.g. settle for the handler) and
 * {@link SettledAttempt.ended} (e.g. forget a delivery tag).
 */
export class SettledAttempt implements ExpiringAttempt {
  deadline = 0;
  openPrevious: ExpiringAttempt | undefined = undefined;
  openNext: ExpiringAttempt | undefined = undefined;
  isOpen = false;
  readonly settleTimeoutMs: number;
  private readonly lastDelivery: boolean;
  private readonly settleAfterHandlerError: boolean;
  private readonly redelivery: SettledAttemptOptions['redelivery'];
  private awaiting = false;
  private handlerState = RUNNING;
  private handlerError: unknown;
  private settlement: Settlement | undefined;
  private taskContext: SettledTaskContext | undefined;

  constructor(
    readonly attempt: TaskAttempt,
    options: SettledAttemptOptions,
  ) {
    this.settleTimeoutMs = options.settleTimeoutMs;
    this.lastDelivery = options.lastDelivery === true;
    this.settleAfterHandlerError = options.settleAfterHandlerError;
    this.redelivery = options.redelivery;
  }

  /** What the handler receives: the attempt number, the span, a signal aborted on timeout. */
  get task(): TaskContext {
    this.taskContext ??= new SettledTaskContext(this.attempt.attempt, this.attempt.span);
    return this.taskContext;
  }

  get settled(): boolean {
    return this.settlement !== undefined;
  }

  /** Keeps the attempt open after the handler until the message is settled or times out. */
  awaitSettlement(): void {
    if (this.attempt.ended) return;
    this.awaiting = true;
    this.deadline = performance.now() + this.settleTimeoutMs;
    openAttempts.add(this);
  }

  /**
   * Runs the handler in the attempt's context and watches how it ends. Returns what it returns
   * (a promise becomes one that settles the same way, so an unhandled rejection stays unhandled)
   * and rethrows what it throws.
   */
  run<A, B, R>(handler: (a: A, b: B) => R, a: A, b: B): R {
    let result: R;
    try {
      result = context.with(this.attempt.context, handler, undefined, a, b);
    } catch (error) {
      this.handlerThrew(error);
      throw error;
    }
    if (!isPromiseLike(result)) {
      this.handlerReturned();
      return result;
    }
    return result.then(
      (value) => {
        this.handlerReturned();
        return value;
      },
      (error: unknown) => {
        this.handlerThrew(error);
        throw error;
      },
    ) as R;
  }

  /** The client settled the message (after its own call succeeded). Only the first one counts. */
  settle(settlement: Settlement): void {
    if (this.settlement !== undefined || this.attempt.ended) return;
    this.settlement = settlement;
    if (this.handlerState !== RUNNING) this.finish();
  }

  /** The consumer asked for more time (JetStream's `working()`): the settle timeout restarts. */
  extend(): void {
    if (this.settlement === undefined && !this.attempt.ended) {
      this.deadline = performance.now() + this.settleTimeoutMs;
    }
  }

  /** The message went back to the broker unsettled (its channel closed): outcome `cancelled`. */
  cancel(): void {
    if (this.attempt.ended) return;
    openAttempts.delete(this);
    this.recordHandlerError();
    this.attempt.cancel();
    this.released(true);
  }

  /** Called by the sweeper once the deadline has passed (the attempt has left the open list). */
  expire(): void {
    if (this.attempt.ended) return;
    const error = new TaskTimeoutError(this.settleTimeoutMs);
    this.recordHandlerError();
    this.attempt.timeOut(error, { willRetry: !this.lastDelivery });
    this.taskContext?.abort(error);
    this.released(!this.lastDelivery);
  }

  /** Called once, when the handler has finished, before the attempt takes note of it. */
  protected handlerEnding(_failed: boolean): void {
    // Nothing by default.
  }

  /** Called once, after the attempt has ended (by settlement, timeout or cancel). */
  protected ended(): void {
    // Nothing by default.
  }

  private handlerReturned(): void {
    this.handlerEnding(false);
    this.handlerState = RETURNED;
    if (this.settlement !== undefined || !this.awaiting) this.finish();
  }

  private handlerThrew(error: unknown): void {
    this.handlerEnding(true);
    this.handlerState = THREW;
    this.handlerError = error;
    if (this.settlement !== undefined || !this.awaiting || !this.settleAfterHandlerError) {
      this.finish();
    }
  }

  /** The attempt has ended: the ledger learns whether the message may come again. */
  private released(mayComeBack: boolean): void {
    this.redelivery?.ledger.end(this.redelivery.key, mayComeBack);
    this.ended();
  }

  private recordHandlerError(): void {
    if (this.handlerState === THREW)
      this.attempt.span.recordException(asException(this.handlerError));
  }

  private finish(): void {
    const { attempt, settlement } = this;
    if (attempt.ended) return;
    openAttempts.delete(this);
    const threw = this.handlerState === THREW;
    if (settlement === undefined) {
      // Unsettled under explicit acknowledgement, the broker delivers the message again.
      if (threw) {
        attempt.fail(this.handlerError, { willRetry: this.awaiting && !this.lastDelivery });
      } else attempt.succeed();
    } else {
      const span = attempt.span;
      span.setAttribute(ATTR_TASK_SETTLEMENT, settlement.verb);
      if (settlement.attributes !== undefined) span.setAttributes(settlement.attributes);
      if (settlement.rejection === undefined) {
        this.recordHandlerError();
        attempt.succeed();
      } else {
        const requeue = settlement.requeue === true;
        span.setAttribute(ATTR_TASK_REQUEUE, requeue);
        attempt.fail(threw ? this.handlerError : settlement.rejection, {
          willRetry: requeue && !this.lastDelivery,
        });
      }
    }
    // Unsettled under explicit acknowledgement, or requeued, the broker delivers it again.
    this.released(
      !this.lastDelivery &&
        (settlement === undefined ? this.awaiting : settlement.requeue === true),
    );
  }
}
