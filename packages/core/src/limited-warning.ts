import { diag } from '@opentelemetry/api';

const INTERVAL_MS = 60_000;

/**
 * A warning about something that can happen once per message: said through `diag` the first
 * time, then at most once a minute with the count of occurrences since, so a stream of bad
 * messages cannot flood the log and none goes unreported.
 */
export class LimitedWarning {
  private unreported = 0;
  private lastSaidAt: number | undefined;

  constructor(private readonly problem: string) {}

  /** One occurrence; `error` is passed to `diag` with the line that reports it. */
  report(error?: unknown): void {
    this.unreported += 1;
    const now = Date.now();
    if (this.lastSaidAt !== undefined && now - this.lastSaidAt < INTERVAL_MS) return;
    const count = this.unreported;
    const times = this.lastSaidAt === undefined ? '' : ` (${count} times in the last minute)`;
    diag.warn(
      `tasklens: ${this.problem}${times}; said at most once a minute`,
      ...(error === undefined ? [] : [error]),
    );
    this.lastSaidAt = now;
    this.unreported = 0;
  }
}
