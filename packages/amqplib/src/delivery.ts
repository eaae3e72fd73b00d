import { SettledAttempt } from '@tasklens/core/adapter';
import type { SettledAttemptOptions, TaskAttempt } from '@tasklens/core/adapter';

/**
 * One consumed message as a task attempt that ends on its settlement (see core's
 * SettledAttempt), found again by its delivery tag in its channel's {@link ChannelDeliveries}.
 * A handler that throws leaves the message unacked with the consumer, whose error handling may
 * still nack it: the attempt waits for that settlement.
 */
export class Delivery extends SettledAttempt {
  /**
   * `channel` is where the delivery awaits its settlement; none for a `noAck` consumer, whose
   * attempt ends with the handler. `redelivery`: where its end is noted, so that the message's
   * next delivery here is not taken for one after a lost attempt.
   */
  constructor(
    readonly tag: number,
    readonly queue: string,
    attempt: TaskAttempt,
    settleTimeoutMs: number,
    private readonly channel: ChannelDeliveries | undefined,
    redelivery?: SettledAttemptOptions['redelivery'],
  ) {
    super(attempt, { settleTimeoutMs, settleAfterHandlerError: true, redelivery });
    if (channel === undefined) return;
    channel.add(this);
    this.awaitSettlement();
  }

  protected override ended(): void {
    this.channel?.forget(this);
  }
}

/**
 * The unsettled deliveries of one channel by delivery tag (unique per channel), in arrival
 * order: what `ack`, `nack` and `reject` (with AMQP's `multiple`) and a closing channel reach.
 * Timeouts and the bound on open attempts are core's, for the whole process.
 */
export class ChannelDeliveries {
  private readonly byTag = new Map<number, Delivery>();

  get size(): number {
    return this.byTag.size;
  }

  add(delivery: Delivery): void {
    // A tag seen again means a new channel generation: the old delivery went back to the broker.
    this.byTag.get(delivery.tag)?.cancel();
    this.byTag.set(delivery.tag, delivery);
  }

  /** Drops an ended delivery (a timeout or cancel ends it without a settle call). */
  forget(delivery: Delivery): void {
    if (this.byTag.get(delivery.tag) === delivery) this.byTag.delete(delivery.tag);
  }

  /** Removes and returns the delivery with this tag. */
  take(tag: number): Delivery | undefined {
    const delivery = this.byTag.get(tag);
    if (delivery !== undefined) this.byTag.delete(tag);
    return delivery;
  }

  /** Removes and returns the deliveries with tags up to this one (AMQP's `multiple`). */
  takeUpTo(tag: number): Delivery[] {
    const taken: Delivery[] = [];
    for (const delivery of this.byTag.values()) {
      if (delivery.tag > tag) continue;
      this.byTag.delete(delivery.tag);
      taken.push(delivery);
    }
    return taken;
  }

  /** Removes and returns every delivery. */
  takeAll(): Delivery[] {
    const taken = [...this.byTag.values()];
    this.byTag.clear();
    return taken;
  }
}
