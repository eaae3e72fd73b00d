import { diag } from '@opentelemetry/api';
import type { Delivery } from './delivery.js';

const WARNING_INTERVAL_MS = 60_000;
const MAX_SWEEP_INTERVAL_MS = 1000;
const MIN_SWEEP_INTERVAL_MS = 10;

let unsettledSinceWarning = 0;
let lastWarningAt: number | undefined;

/** One aggregated warning at most per minute, however many deliveries go unsettled. */
function reportUnsettled(reason: string): void {
  unsettledSinceWarning += 1;
  const now = Date.now();
  if (lastWarningAt !== undefined && now - lastWarningAt < WARNING_INTERVAL_MS) return;
  diag.warn(
    `tasklens: ${unsettledSinceWarning} amqplib deliver${unsettledSinceWarning === 1 ? 'y' : 'ies'} ` +
      `ended ${reason} without an ack, nack or reject: span ended with task.outcome=timeout ` +
      '(counted in task.duration). Further ones are reported at most once a minute.',
  );
  lastWarningAt = now;
  unsettledSinceWarning = 0;
}

/**
 * The unsettled deliveries of one channel, keyed by delivery tag (unique per channel), in arrival
 * order. Bounded: past `maxOpen` the oldest is ended; a sweeper, running only while deliveries
 * are open and never keeping the process alive, ends those older than `timeoutMs`.
 */
export class OpenDeliveries {
  private readonly open = new Map<number, Delivery>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly maxOpen: number,
  ) {}

  get size(): number {
    return this.open.size;
  }

  add(delivery: Delivery): void {
    const previous = this.open.get(delivery.tag);
    if (previous !== undefined) {
      this.open.delete(delivery.tag);
      previous.cancel();
    }
    if (this.open.size >= this.maxOpen) {
      const oldest = this.open.values().next().value;
      if (oldest !== undefined) {
        this.open.delete(oldest.tag);
        reportUnsettled(`past the limit of ${this.maxOpen} unsettled deliveries per channel`);
        oldest.timeOut(Date.now() - oldest.startedAt);
      }
    }
    this.open.set(delivery.tag, delivery);
    if (this.sweeper === undefined) this.startSweeper();
  }

  /** Removes and returns the delivery with this tag. */
  take(tag: number): Delivery | undefined {
    const delivery = this.open.get(tag);
    if (delivery !== undefined) this.open.delete(tag);
    return delivery;
  }

  /** Removes and returns the deliveries with tags up to this one (AMQP's `multiple`). */
  takeUpTo(tag: number): Delivery[] {
    const taken: Delivery[] = [];
    for (const delivery of this.open.values()) {
      if (delivery.tag > tag) continue;
      this.open.delete(delivery.tag);
      taken.push(delivery);
    }
    return taken;
  }

  /** Removes and returns every delivery. */
  takeAll(): Delivery[] {
    const taken = [...this.open.values()];
    this.open.clear();
    return taken;
  }

  /** Ends every open delivery as cancelled and stops the sweeper (the channel closed). */
  cancelAll(): void {
    for (const delivery of this.takeAll()) delivery.cancel();
    this.stopSweeper();
  }

  private startSweeper(): void {
    const interval = Math.min(
      MAX_SWEEP_INTERVAL_MS,
      Math.max(MIN_SWEEP_INTERVAL_MS, Math.floor(this.timeoutMs / 4)),
    );
    this.sweeper = setInterval(() => this.sweep(), interval);
    this.sweeper.unref();
  }

  private stopSweeper(): void {
    if (this.sweeper === undefined) return;
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private sweep(): void {
    const now = Date.now();
    for (const delivery of this.open.values()) {
      const elapsed = now - delivery.startedAt;
      // Arrival order is age order, so the first young delivery ends the sweep.
      if (elapsed < this.timeoutMs) break;
      this.open.delete(delivery.tag);
      reportUnsettled(`after ${this.timeoutMs} ms`);
      delivery.timeOut(elapsed);
    }
    if (this.open.size === 0) this.stopSweeper();
  }
}
