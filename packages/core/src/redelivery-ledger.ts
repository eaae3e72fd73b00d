import { BoundedMap } from './bounded-map.js';
import { LimitedWarning } from './limited-warning.js';

/**
 * Most messages remembered as handed back to the broker by this process (nacked with requeue,
 * cancelled with their channel, timed out); past it the oldest is forgotten, and its redelivery,
 * should it come here, is taken for a lost attempt.
 */
export const MAX_RETURNED_DELIVERIES = 10_000;

const forgotten = new LimitedWarning(
  `more than ${MAX_RETURNED_DELIVERIES} messages were handed back to the broker and not yet ` +
    'delivered again; the oldest was forgotten, and its next delivery counts the one before as ' +
    'lost (task.outcome=lost)',
);

/**
 * What a process knows of the deliveries of its messages, to tell a redelivery that follows an
 * attempt this process ended (a requeue, a closed channel, a timeout) or still runs (its ack wait
 * expired) from one whose earlier attempt ended nowhere: its process died with it. Keyed by a
 * message key the adapter finds in the delivery (a stream sequence, a message id, a carrier).
 */
export class RedeliveryLedger {
  /** Deliveries running here, by message key: how many (a message may be delivered twice). */
  private readonly running = new Map<string, number>();
  /** Messages whose attempt ended here without consuming them. */
  private readonly returned = new BoundedMap<true>(MAX_RETURNED_DELIVERIES, forgotten);

  /**
   * A delivery of the message `key` starts here. Returns whether an earlier delivery of it is
   * accounted for by this process (still running, or ended here without consuming it).
   */
  start(key: string): boolean {
    const accounted = this.returned.delete(key) || this.running.has(key);
    this.running.set(key, (this.running.get(key) ?? 0) + 1);
    return accounted;
  }

  /**
   * The delivery of `key` ended; `mayComeBack`: the broker may deliver the message again (it was
   * not acknowledged or rejected for good).
   */
  end(key: string, mayComeBack: boolean): void {
    const count = this.running.get(key) ?? 0;
    if (count <= 1) this.running.delete(key);
    else this.running.set(key, count - 1);
    if (mayComeBack) this.returned.set(key, true);
  }
}
