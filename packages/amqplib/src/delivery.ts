import type { TaskAttempt } from '@tasklens/core';
import { TaskTimeoutError } from '@tasklens/core';
import { ATTR_TASK_DEAD_LETTERED, ATTR_TASK_REQUEUE, ATTR_TASK_SETTLEMENT } from './semconv.js';
import { MessageNackedError } from './settlement-error.js';

/**
 * One consumed message whose attempt is in flight: ends its attempt on settlement, timeout or
 * channel close, with the error the handler threw if it threw one.
 */
export class Delivery {
  private handlerError: { error: unknown } | undefined;

  constructor(
    readonly tag: number,
    readonly queue: string,
    readonly attempt: TaskAttempt,
    /** `Date.now()` when the delivery arrived. */
    readonly startedAt: number,
  ) {}

  /** The handler threw (or its promise rejected): kept for the settlement that ends the span. */
  handlerFailed(error: unknown): void {
    if (this.attempt.ended || this.handlerError !== undefined) return;
    this.handlerError = { error };
  }

  ack(): void {
    if (this.attempt.ended) return;
    this.recordHandlerError();
    this.attempt.span.setAttribute(ATTR_TASK_SETTLEMENT, 'ack');
    this.attempt.succeed();
  }

  /** A nack or reject: a failed attempt, that the broker retries when `requeue` is true. */
  nack(settlement: 'nack' | 'reject', requeue: boolean, deadLettered: boolean): void {
    if (this.attempt.ended) return;
    const span = this.attempt.span;
    span.setAttribute(ATTR_TASK_SETTLEMENT, settlement);
    span.setAttribute(ATTR_TASK_REQUEUE, requeue);
    if (!requeue && deadLettered) span.setAttribute(ATTR_TASK_DEAD_LETTERED, true);
    const error = this.handlerError?.error ?? new MessageNackedError(settlement, requeue);
    this.attempt.fail(error, { willRetry: requeue });
  }

  timeOut(elapsedMs: number): void {
    this.recordHandlerError();
    this.attempt.timeOut(new TaskTimeoutError(elapsedMs));
  }

  /** The channel closed first: the broker requeues the message, so a later attempt follows. */
  cancel(): void {
    this.recordHandlerError();
    this.attempt.cancel();
  }

  private recordHandlerError(): void {
    if (this.handlerError === undefined) return;
    const error = this.handlerError.error;
    this.attempt.span.recordException(error instanceof Error ? error : String(error));
  }
}
