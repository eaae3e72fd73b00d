import { SpoolDirectory } from './spool-directory.js';
import type { NewSpoolEntry, SpoolEntry } from './spool-directory.js';
import { SpoolDrainLock } from './spool-drain-lock.js';
import { SpoolReport } from './spool-report.js';
import { OTLP_JSON } from './otlp-http-post.js';
import type { OtlpHttpPoster, OtlpTarget } from './otlp-http-post.js';
import { reportProblem } from './report.js';

/** First wait before asking a collector that failed again; doubled up to the maximum. */
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;
/**
 * Metric exports older than this are dropped instead of sent: Prometheus refuses samples older
 * than its out-of-order window (24 h in tasklens's prometheus.yml), and the collector then drops
 * the whole request that carried such a sample, newer points of other series with it.
 */
const MAX_METRICS_AGE_MS = 23 * 60 * 60 * 1000;
/** Refresh the drain lock after this many files sent in one pass. */
const FILES_PER_LOCK_REFRESH = 20;

/** Where the spool sends each kind of entry. */
export interface SpoolTargets {
  traces?: OtlpTarget;
  metrics?: OtlpTarget;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Telemetry the collector did not take, kept on disk and sent again, oldest first, once it
 * answers: by this process, or by the next process of the same service that starts. Holds the
 * directory, the drain lock that makes one process at a time the sender, and the retry timer.
 * Nothing here throws into the exporters: a directory that cannot be written costs one warning,
 * and what cannot be kept is counted as dropped.
 */
export class Spool {
  readonly report = new SpoolReport();
  private readonly directory: SpoolDirectory;
  private readonly lock: SpoolDrainLock;
  /** This process knows of entries not yet sent (its own, or found at start). */
  private backlog = false;
  /** Entries this process has written: tells a listing whether one was kept while it ran. */
  private keptEntries = 0;
  /** 0 while the collector answers; the wait before the next try after it failed. */
  private retryMs = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private closed = false;
  private opening: Promise<void> | undefined;
  private usable = true;

  constructor(
    readonly path: string,
    maxBytes: number,
    private readonly targets: SpoolTargets,
    private readonly poster: OtlpHttpPoster,
  ) {
    this.directory = new SpoolDirectory(path, maxBytes);
    this.lock = new SpoolDrainLock(path);
  }

  /** Opens the directory and sends what earlier processes left, in the background. */
  start(): void {
    this.opening ??= this.open();
  }

  private async open(): Promise<void> {
    try {
      await this.directory.open();
      this.backlog = (await this.directory.list()).length > 0;
    } catch (error) {
      this.usable = false;
      this.report.unusable(this.path, describe(error));
      return;
    }
    if (this.backlog) this.drainNow();
  }

  /** Where the files go, for messages; `undefined` once the directory proved unusable. */
  get location(): string | undefined {
    return this.usable ? this.path : undefined;
  }

  /**
   * Whether new telemetry should queue behind spooled entries instead of going to the collector
   * directly, which keeps the order and spares a collector that is down a request per batch.
   */
  async hasBacklog(): Promise<boolean> {
    await this.opening;
    if (!this.backlog || this.draining !== undefined) return this.backlog;
    try {
      await this.listBacklog();
    } catch {
      this.backlog = false;
    }
    return this.backlog;
  }

  /**
   * The entries on disk. Clears `backlog` when there are none, unless an entry was kept while the
   * directory was being read (its file may have been renamed into place after the read).
   */
  private async listBacklog(): Promise<SpoolEntry[]> {
    const keptBefore = this.keptEntries;
    const entries = await this.directory.list();
    if (entries.length === 0 && this.keptEntries === keptBefore) this.backlog = false;
    return entries;
  }

  /** Keeps an entry on disk; `false` when it could not be kept (counted and warned). */
  async keep(entry: NewSpoolEntry): Promise<boolean> {
    // An export that fails as the process starts waits for the directory to be created.
    await this.opening;
    let written = false;
    try {
      const result = await this.directory.write(entry);
      written = result.written;
      for (const evicted of result.evicted) {
        this.report.dropped(evicted.kind, evicted.items, 'full', this.path);
      }
    } catch (error) {
      this.report.dropped(
        entry.kind,
        entry.items,
        'unwritable',
        `${this.path}: ${describe(error)}`,
      );
      return false;
    }
    if (!written) return false;
    this.report.spooled(entry.kind, entry.items);
    this.keptEntries++;
    this.backlog = true;
    this.scheduleDrain();
    return true;
  }

  /** A direct export failed: wait before asking the collector again. */
  collectorFailed(retryAfterMs?: number): void {
    this.retryMs = Math.min(Math.max(this.retryMs * 2, FIRST_RETRY_MS), MAX_RETRY_MS);
    if (retryAfterMs !== undefined) this.retryMs = Math.max(this.retryMs, retryAfterMs);
  }

  /** A direct export succeeded: the collector is back, so send the backlog now. */
  collectorAnswered(): void {
    this.retryMs = 0;
    if (this.backlog && this.draining === undefined) this.drainNow();
  }

  /**
   * Stops retrying. Waits for a drain under way and, when the collector was answering, sends
   * what was spooled meanwhile (the last batches of an exiting process); when it was failing,
   * leaves the files for the next process at once, so a process whose collector is down exits
   * as fast as one whose collector is up.
   */
  async close(): Promise<void> {
    this.closed = true;
    await this.opening;
    clearTimeout(this.retryTimer);
    await this.draining;
    if (this.backlog && this.retryMs === 0) await this.drainPass();
    await this.lock.release();
  }

  private scheduleDrain(): void {
    if (this.closed || this.draining !== undefined || this.retryTimer !== undefined) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.drainNow();
    }, this.retryMs);
    this.retryTimer.unref();
  }

  private drainNow(): void {
    if (this.draining !== undefined) return;
    this.draining = this.drainPass().finally(() => {
      this.draining = undefined;
      if (this.backlog) this.scheduleDrain();
    });
  }

  /** Sends entries oldest first until none is left or the collector fails. */
  private async drainPass(): Promise<void> {
    try {
      if (!(await this.lock.acquire())) {
        // Another process sends them; look again later.
        this.retryMs = Math.max(this.retryMs, FIRST_RETRY_MS);
        return;
      }
      let sent = 0;
      for (;;) {
        const entries = await this.listBacklog();
        if (!this.backlog) return;
        for (const entry of entries) {
          if (!(await this.send(entry))) return;
          if (++sent % FILES_PER_LOCK_REFRESH === 0) await this.lock.refresh();
        }
      }
    } catch (error) {
      this.collectorFailed();
      reportProblem(
        `tasklens: could not read the telemetry spool at ${this.path}: ${describe(error)}`,
      );
    } finally {
      await this.lock.release();
    }
  }

  /** Sends one entry; `false` when the collector failed and the pass must stop. */
  private async send(entry: SpoolEntry): Promise<boolean> {
    if (entry.kind === 'metrics' && Date.now() - entry.spooledAt > MAX_METRICS_AGE_MS) {
      await this.directory.remove(entry);
      this.report.dropped(
        entry.kind,
        entry.items,
        'expired',
        `spooled ${new Date(entry.spooledAt).toISOString()}`,
      );
      return true;
    }
    const target = entry.kind === 'metrics' ? this.targets.metrics : this.targets.traces;
    const body = await this.directory.read(entry);
    if (body === undefined) return true;
    if (target === undefined) {
      // Left by a process that exported this signal; this one has nowhere to send it.
      await this.directory.remove(entry);
      this.report.dropped(entry.kind, entry.items, 'rejected', 'no OTLP endpoint for it here');
      return true;
    }
    const result = await this.poster.post(target, body, OTLP_JSON);
    if (result.status === 'retryable') {
      this.collectorFailed(result.retryAfterMs);
      return false;
    }
    await this.directory.remove(entry);
    if (result.status === 'success') {
      this.retryMs = 0;
      this.report.replayed(entry);
    } else {
      this.report.dropped(
        entry.kind,
        entry.items,
        'rejected',
        `${target.url}: ${result.error.message}`,
      );
    }
    return true;
  }
}
