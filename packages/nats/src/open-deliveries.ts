import { warnOnce } from './warn-once.js';

/** What the sweeper needs of a delivery that awaits its settlement. */
export interface ExpiringDelivery {
  /** `performance.now()` past which the delivery times out; pushed back by `working()`. */
  readonly deadline: number;
  readonly settleTimeoutMs: number;
  /** Ends the delivery with outcome `timeout` (it has already left the open set). */
  expire(): void;
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
 * The deliveries of this process that await their settlement, in arrival order, with one
 * sweeper for all of them instead of a timer per message. The sweeper runs only while
 * deliveries are open (it stops on the first sweep that finds none, so a steady stream of
 * messages does not start and stop it per message), never keeps the process alive, and ticks
 * at a quarter of the shortest settle timeout seen (10 ms to 1 s): a delivery times out at most
 * that much after its deadline.
 */
class OpenDeliveries<D extends ExpiringDelivery> {
  private readonly open = new Set<D>();
  private sweeper: NodeJS.Timeout | undefined;
  private sweepIntervalMs = Infinity;

  add(delivery: D): void {
    if (this.open.size >= MAX_OPEN_DELIVERIES) {
      const oldest = this.open.values().next().value;
      if (oldest !== undefined) {
        this.open.delete(oldest);
        warnOnce(
          `more than ${MAX_OPEN_DELIVERIES} NATS deliveries awaited settlement at once; ` +
            'the oldest ended with task.outcome=timeout',
          undefined,
        );
        this.expire(oldest);
      }
    }
    this.open.add(delivery);
    const interval = sweepIntervalFor(delivery.settleTimeoutMs);
    if (interval < this.sweepIntervalMs) this.startSweeper(interval);
  }

  delete(delivery: D): void {
    this.open.delete(delivery);
  }

  private startSweeper(interval: number): void {
    clearInterval(this.sweeper);
    this.sweepIntervalMs = interval;
    this.sweeper = setInterval(() => this.sweep(), interval).unref();
  }

  private sweep(): void {
    if (this.open.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
      this.sweepIntervalMs = Infinity;
      return;
    }
    const now = performance.now();
    // Deadlines move with working(), so arrival order is not deadline order: look at them all.
    for (const delivery of this.open) {
      if (delivery.deadline > now) continue;
      this.open.delete(delivery);
      this.expire(delivery);
    }
  }

  private expire(delivery: D): void {
    try {
      delivery.expire();
    } catch (error) {
      warnOnce('could not end a NATS delivery that timed out', error);
    }
  }
}

/** The one set of this process. */
export const openDeliveries = new OpenDeliveries<ExpiringDelivery>();
