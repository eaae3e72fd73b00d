import type { JsMsg } from '@nats-io/jetstream';
import { LimitedWarning, SettledAttempt } from '@tasklens/core/adapter';
import type { SettledAttemptOptions, Settlement, TaskAttempt } from '@tasklens/core/adapter';
import { JetStreamNakError, JetStreamTermError } from './settlement-errors.js';

const ACK: Settlement = { verb: 'ack' };

/** Where a watched message keeps the delivery its settlement calls report to. */
const DELIVERY = Symbol('tasklens.nats.delivery');

interface WatchedMsg extends JsMsg {
  [DELIVERY]?: Delivery;
}

const unwatchable = new LimitedWarning('cannot observe how a NATS message is settled');
const autoSettleFailed = new LimitedWarning('could not auto-settle a NATS message');

/** `autoAck`: settles a message the handler left unsettled, `nak()` if it threw, else `ack()`. */
export function autoSettle(msg: JsMsg, failed: boolean): void {
  try {
    if (failed) msg.nak();
    else msg.ack();
  } catch (error) {
    autoSettleFailed.report(error);
  }
}

/**
 * One delivery of a JetStream message as a task attempt that ends on its settlement (see core's
 * SettledAttempt): the message's settlement calls are routed here (after the client's own call,
 * so a call that throws records nothing); `working()` restarts the settle timeout. A handler that
 * throws ends the attempt at once: JetStream redelivers the message after its ack wait whatever
 * the consumer does next.
 */
export class Delivery extends SettledAttempt {
  /** A delivery started earlier for the same message object (processTask nested in itself). */
  private outer: Delivery | undefined;
  // The message's own settlement methods, as found before watching it.
  clientAck!: JsMsg['ack'];
  clientAckAck!: JsMsg['ackAck'];
  clientNext!: JsMsg['next'];
  clientNak!: JsMsg['nak'];
  clientTerm!: JsMsg['term'];
  clientWorking!: JsMsg['working'];

  /**
   * With `explicitAck` (JetStream's AckPolicy explicit), watches the message's settlement calls
   * and keeps the attempt open until it is settled; otherwise the attempt ends with the handler.
   * `redelivery`: where its end is noted (see core's RedeliveryLedger).
   */
  constructor(
    attempt: TaskAttempt,
    private readonly msg: JsMsg,
    private readonly autoAck: boolean,
    explicitAck: boolean,
    lastDelivery: boolean,
    settleTimeoutMs: number,
    redelivery?: SettledAttemptOptions['redelivery'],
  ) {
    super(attempt, { settleTimeoutMs, lastDelivery, settleAfterHandlerError: false, redelivery });
    if (explicitAck && this.watch()) this.awaitSettlement();
  }

  /**
   * Routes the message's settlement calls through this delivery. The methods put on the message
   * are shared by all messages: each finds its delivery under a symbol-keyed property. Returns
   * false when the message cannot be watched (its settlement then goes unseen).
   */
  private watch(): boolean {
    const msg = this.msg as WatchedMsg;
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
      unwatchable.report(error);
      return false;
    }
  }

  override settle(settlement: Settlement): void {
    this.outer?.settle(settlement);
    super.settle(settlement);
  }

  override extend(): void {
    this.outer?.extend();
    super.extend();
  }

  protected override handlerEnding(failed: boolean): void {
    if (this.autoAck && !this.settled) autoSettle(this.msg, failed);
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
  delivery.settle({ verb: 'nak', rejection: new JetStreamNakError(millis), requeue: true });
}

function watchedTerm(this: WatchedMsg, reason?: string): void {
  const delivery = this[DELIVERY] as Delivery;
  delivery.clientTerm.call(this, reason);
  delivery.settle({ verb: 'term', rejection: new JetStreamTermError(reason), requeue: false });
}

function watchedWorking(this: WatchedMsg): void {
  const delivery = this[DELIVERY] as Delivery;
  delivery.clientWorking.call(this);
  delivery.extend();
}
