import { warnOnce } from './warn-once.js';

/** What the sweeper needs of a delivery that awaits its settlement. */
export interface ExpiringDelivery {
  /** `performance.now()` past which the delivery times out; pushed back by `working()`. */
  readonly deadline: number;
  readonly settleTimeoutMs: number;
  /** Ends the delivery with outcome `timeout` (it has already left the open list). */
  expire(): void;
  // The links of the open list, owned by OpenDeliveries (no Set: no hashing or rehashing).
  openPrevious: ExpiringDelivery | undefined;
  openNext: ExpiringDelivery | undefined;
  isOpen: boolean;
}

/**
 * Most deliveries awaiting settlement at once in a process. JetStream's default
 * `max_ack_pending` is 1000 per consumer; past this limit the oldest delivery times out.
 */
const MAX_OPEN_DELIVERIES = 10_000;
const MAX_SWEEP_INTERVAL_MS = 1000;
const MIN_SWEEP_INTERVAL_MS = 10;

function sweepIntervalFor(settleTimeoutMs: number): number {
  return Math.min(
    MAX_SWEEP_INTERVAL_MS,
    Math.max(MIN_SWEEP_INTERVAL_MS, Math.floor(settleTimeoutMs / 4)),
  );
}

/**
 * The deliveries of this process that await their settlement, in arrival order (an intrusive
 * doubly linked list: adding and removing allocate nothing), with one sweeper for all of them
 * instead of a timer per message. The sweeper runs only while deliveries are open (it stops on
 * the first sweep that finds none, so a steady stream of messages does not start and stop it per
 * message), never keeps the process alive, and ticks at a quarter of the shortest settle timeout
 * seen (10 ms to 1 s): a delivery times out at most that much after its deadline.
 */
class OpenDeliveries {
  private oldest: ExpiringDelivery | undefined;
  private newest: ExpiringDelivery | undefined;
  private size = 0;
  private sweeper: NodeJS.Timeout | undefined;
  private sweepIntervalMs = Infinity;

  add(delivery: ExpiringDelivery): void {
    if (delivery.isOpen) return;
    const oldest = this.oldest;
    if (this.size >= MAX_OPEN_DELIVERIES && oldest !== undefined) {
      this.delete(oldest);
      warnOnce(
        `more than ${MAX_OPEN_DELIVERIES} NATS deliveries awaited settlement at once; ` +
          'the oldest ended with task.outcome=timeout',
        undefined,
      );
      this.expire(oldest);
    }
    delivery.isOpen = true;
    delivery.openPrevious = this.newest;
    delivery.openNext = undefined;
    if (this.newest === undefined) this.oldest = delivery;
    else this.newest.openNext = delivery;
    this.newest = delivery;
    this.size += 1;
    const interval = sweepIntervalFor(delivery.settleTimeoutMs);
    if (interval < this.sweepIntervalMs) this.startSweeper(interval);
  }

  delete(delivery: ExpiringDelivery): void {
    if (!delivery.isOpen) return;
    const { openPrevious: previous, openNext: next } = delivery;
    if (previous === undefined) this.oldest = next;
    else previous.openNext = next;
    if (next === undefined) this.newest = previous;
    else next.openPrevious = previous;
    delivery.isOpen = false;
    delivery.openPrevious = undefined;
    delivery.openNext = undefined;
    this.size -= 1;
  }

  private startSweeper(interval: number): void {
    clearInterval(this.sweeper);
    this.sweepIntervalMs = interval;
    this.sweeper = setInterval(() => this.sweep(), interval).unref();
  }

  private sweep(): void {
    if (this.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
      this.sweepIntervalMs = Infinity;
      return;
    }
    const now = performance.now();
    // Deadlines move with working(), so arrival order is not deadline order: look at them all.
    let delivery = this.oldest;
    while (delivery !== undefined) {
      const next = delivery.openNext;
      if (delivery.deadline <= now) {
        this.delete(delivery);
        this.expire(delivery);
      }
      delivery = next;
    }
  }

  private expire(delivery: ExpiringDelivery): void {
    try {
      delivery.expire();
    } catch (error) {
      warnOnce('could not end a NATS delivery that timed out', error);
    }
  }
}

/** The one list of this process. */
export const openDeliveries = new OpenDeliveries();
