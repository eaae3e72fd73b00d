import type { Span } from '@opentelemetry/api';
import type { JsMsg } from '@nats-io/jetstream';
import { TaskTimeoutError } from '@tasklens/core';
import type { TaskAttempt, TaskContext } from '@tasklens/core';
import { openDeliveries } from './open-deliveries.js';
import type { ExpiringDelivery } from './open-deliveries.js';
import { JetStreamNakError, JetStreamTermError } from './settlement-errors.js';
import { warnOnce } from './warn-once.js';

export type Settlement =
  | { kind: 'ack' }
  | { kind: 'nak'; delayMs: number | undefined }
  | { kind: 'term'; reason: string | undefined };

const ACK: Settlement = { kind: 'ack' };

/** Where a watched message keeps the delivery its settlement calls report to. */
const DELIVERY = Symbol('tasklens.nats.delivery');

interface WatchedMsg extends JsMsg {
  [DELIVERY]?: Delivery;
}

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
export class Delivery implements ExpiringDelivery {
  readonly task: DeliveryTaskContext;
  deadline = 0;
  openPrevious: ExpiringDelivery | undefined = undefined;
  openNext: ExpiringDelivery | undefined = undefined;
  isOpen = false;
  private settlement: Settlement | undefined;
  private handlerDone = false;
  private handlerFailed = false;
  private handlerError: unknown;
  private awaitSettlement = false;
  /** A delivery started earlier for the same message object (processTask nested in itself). */
  private outer: Delivery | undefined;
  // The message's own settlement methods, as found before watching it.
  clientAck!: JsMsg['ack'];
  clientAckAck!: JsMsg['ackAck'];
  clientNext!: JsMsg['next'];
  clientNak!: JsMsg['nak'];
  clientTerm!: JsMsg['term'];
  clientWorking!: JsMsg['working'];

  constructor(
    readonly attempt: TaskAttempt,
    attemptNumber: number,
    private readonly lastDelivery: boolean,
    readonly settleTimeoutMs: number,
  ) {
    this.task = new DeliveryTaskContext(attemptNumber, attempt.span);
  }

  /**
   * Routes the message's settlement calls through this delivery (after the client's own call,
   * so a call that throws records nothing), then, with `awaitSettlement`, keeps the attempt open
   * until the message is settled or times out. The methods put on the message are shared by
   * all messages: each finds its delivery under a symbol-keyed property.
   */
  begin(msg: JsMsg, awaitSettlement: boolean): void {
    this.awaitSettlement = awaitSettlement && this.watch(msg);
    if (this.awaitSettlement) {
      this.deadline = performance.now() + this.settleTimeoutMs;
      openDeliveries.add(this);
    }
  }

  get settled(): boolean {
    return this.settlement !== undefined;
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

  /** Called by the sweeper once the deadline has passed (the delivery has left the open list). */
  expire(): void {
    if (this.attempt.ended) return;
    const error = new TaskTimeoutError(this.settleTimeoutMs);
    this.attempt.timeOut(error, { willRetry: !this.lastDelivery });
    this.task.abort(error);
  }

  private watch(msg: WatchedMsg): boolean {
    try {
      const outer = msg[DELIVERY];
      if (outer !== undefined) {
        // Already watched: the shared methods stay, this delivery reports to the outer one too.
        this.outer = outer;
        this.clientAck = outer.clientAck;
        this.clientAckAck = outer.clientAckAck;
        this.clientNext = outer.clientNext;
        this.clientNak = outer.clientNak;
        this.clientTerm = outer.clientTerm;
        this.clientWorking = outer.clientWorking;
        msg[DELIVERY] = this;
        return true;
      }
      // Kept unbound on purpose, and called with the message as `this`: no bind per message.
      /* eslint-disable @typescript-eslint/unbound-method */
      this.clientAck = msg.ack;
      this.clientAckAck = msg.ackAck;
      this.clientNext = msg.next;
      this.clientNak = msg.nak;
      this.clientTerm = msg.term;
      this.clientWorking = msg.working;
      /* eslint-enable @typescript-eslint/unbound-method */
      msg[DELIVERY] = this;
      msg.ack = watchedAck;
      msg.ackAck = watchedAckAck;
      msg.next = watchedNext;
      msg.nak = watchedNak;
      msg.term = watchedTerm;
      msg.working = watchedWorking;
      return true;
    } catch (error) {
      warnOnce('cannot observe how a NATS message is settled', error);
      return false;
    }
  }

  settle(settlement: Settlement): void {
    this.outer?.settle(settlement);
    if (this.settlement !== undefined) return;
    this.settlement = settlement;
    if (this.handlerDone) this.finish();
  }

  /** `working()`: the broker restarts its ack wait, so does the settle timeout. */
  extend(): void {
    this.outer?.extend();
    if (this.settlement === undefined && !this.attempt.ended) {
      this.deadline = performance.now() + this.settleTimeoutMs;
    }
  }

  private finish(): void {
    if (this.awaitSettlement) openDeliveries.delete(this);
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
}

// The methods every watched message gets; `this` is the message, as for the client's own.

function watchedAck(this: WatchedMsg): void {
  const delivery = this[DELIVERY] as Delivery;
  delivery.clientAck.call(this);
  delivery.settle(ACK);
}

function watchedAckAck(
  this: WatchedMsg,
  options?: Parameters<JsMsg['ackAck']>[0],
): Promise<boolean> {
  const delivery = this[DELIVERY] as Delivery;
  const acked = delivery.clientAckAck.call(this, options);
  delivery.settle(ACK);
  return acked;
}

function watchedNext(
  this: WatchedMsg,
  subject: string,
  options?: Parameters<JsMsg['next']>[1],
): void {
  const delivery = this[DELIVERY] as Delivery;
  delivery.clientNext.call(this, subject, options);
  delivery.settle(ACK);
}

function watchedNak(this: WatchedMsg, millis?: number): void {
  const delivery = this[DELIVERY] as Delivery;
  delivery.clientNak.call(this, millis);
  delivery.settle({ kind: 'nak', delayMs: millis });
}

function watchedTerm(this: WatchedMsg, reason?: string): void {
  const delivery = this[DELIVERY] as Delivery;
  delivery.clientTerm.call(this, reason);
  delivery.settle({ kind: 'term', reason });
}

function watchedWorking(this: WatchedMsg): void {
  const delivery = this[DELIVERY] as Delivery;
  delivery.clientWorking.call(this);
  delivery.extend();
}
