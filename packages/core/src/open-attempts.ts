import { LimitedWarning } from './limited-warning.js';

/** What the sweeper needs of an attempt that awaits the settlement of its message. */
export interface ExpiringAttempt {
  /** `performance.now()` past which the attempt times out; pushed back by `extend()`. */
  readonly deadline: number;
  readonly settleTimeoutMs: number;
  /** Ends the attempt with outcome `timeout` (it has already left the open list). */
  expire(): void;
  // The links of the open list, owned by OpenAttempts (no Set: no hashing or rehashing).
  openPrevious: ExpiringAttempt | undefined;
  openNext: ExpiringAttempt | undefined;
  isOpen: boolean;
}

/**
 * Most attempts awaiting settlement at once in a process (JetStream's default `max_ack_pending`
 * is 1000 per consumer, RabbitMQ's prefetch is usually far lower); past it the oldest times out.
 */
export const MAX_OPEN_ATTEMPTS = 10_000;
const MAX_SWEEP_INTERVAL_MS = 1000;
const MIN_SWEEP_INTERVAL_MS = 10;

const overLimit = new LimitedWarning(
  `more than ${MAX_OPEN_ATTEMPTS} messages awaited settlement at once; the oldest ended with ` +
    'task.outcome=timeout',
);
const unsettled = new LimitedWarning(
  'a message was neither acknowledged nor rejected within its settle timeout; its attempt ended ' +
    'with task.outcome=timeout (counted in task.duration)',
);
const expireFailed = new LimitedWarning('could not end an attempt whose settle timeout passed');

function sweepIntervalFor(settleTimeoutMs: number): number {
  return Math.min(
    MAX_SWEEP_INTERVAL_MS,
    Math.max(MIN_SWEEP_INTERVAL_MS, Math.floor(settleTimeoutMs / 4)),
  );
}

/**
 * The attempts of this process that await their message's settlement, in arrival order (an
 * intrusive doubly linked list: adding and removing allocate nothing), with one sweeper for all
 * of them instead of a timer per message. The sweeper runs only while attempts are open (it stops
 * on the first sweep that finds none, so a steady stream of messages does not start and stop it
 * per message), never keeps the process alive, and ticks at a quarter of the shortest settle
 * timeout seen (10 ms to 1 s): an attempt times out at most that much after its deadline.
 */
class OpenAttempts {
  private oldest: ExpiringAttempt | undefined;
  private newest: ExpiringAttempt | undefined;
  private count = 0;
  private sweeper: NodeJS.Timeout | undefined;
  private sweepIntervalMs = Infinity;

  get size(): number {
    return this.count;
  }

  add(attempt: ExpiringAttempt): void {
    if (attempt.isOpen) return;
    const oldest = this.oldest;
    if (this.count >= MAX_OPEN_ATTEMPTS && oldest !== undefined) {
      this.delete(oldest);
      overLimit.report();
      this.expire(oldest);
    }
    attempt.isOpen = true;
    attempt.openPrevious = this.newest;
    attempt.openNext = undefined;
    if (this.newest === undefined) this.oldest = attempt;
    else this.newest.openNext = attempt;
    this.newest = attempt;
    this.count += 1;
    const interval = sweepIntervalFor(attempt.settleTimeoutMs);
    if (interval < this.sweepIntervalMs) this.startSweeper(interval);
  }

  delete(attempt: ExpiringAttempt): void {
    if (!attempt.isOpen) return;
    const { openPrevious: previous, openNext: next } = attempt;
    if (previous === undefined) this.oldest = next;
    else previous.openNext = next;
    if (next === undefined) this.newest = previous;
    else next.openPrevious = previous;
    attempt.isOpen = false;
    attempt.openPrevious = undefined;
    attempt.openNext = undefined;
    this.count -= 1;
  }

  private startSweeper(interval: number): void {
    clearInterval(this.sweeper);
    this.sweepIntervalMs = interval;
    this.sweeper = setInterval(() => this.sweep(), interval).unref();
  }

  private sweep(): void {
    if (this.count === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
      this.sweepIntervalMs = Infinity;
      return;
    }
    const now = performance.now();
    // Deadlines move with extend(), so arrival order is not deadline order: look at them all.
    let attempt = this.oldest;
    while (attempt !== undefined) {
      const next = attempt.openNext;
      if (attempt.deadline <= now) {
        this.delete(attempt);
        unsettled.report();
        this.expire(attempt);
      }
      attempt = next;
    }
  }

  private expire(attempt: ExpiringAttempt): void {
    try {
      attempt.expire();
    } catch (error) {
      expireFailed.report(error);
    }
  }
}

/** The one list of this process. */
export const openAttempts = new OpenAttempts();
