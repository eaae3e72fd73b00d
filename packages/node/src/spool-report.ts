import type { Counter, Meter } from '@opentelemetry/api';
import type { SpoolEntry } from './spool-directory.js';
import { reportProblem } from './report.js';

/** Why spooled telemetry was dropped: the label of the dropped counters. */
export type SpoolDropReason =
  /** The spool reached its size cap. */
  | 'full'
  /** The spool directory could not be written (read-only, full disk, not a directory). */
  | 'unwritable'
  /** The collector refused the spooled request for good (a 4xx other than 429). */
  | 'rejected';

const DROP_MESSAGES: Record<SpoolDropReason, string> = {
  full: 'the spool is full',
  unwritable: 'the spool directory cannot be written',
  rejected: 'the collector rejected it',
};

interface SignalCounters {
  spooled: Counter;
  replayed: Counter;
  dropped: Counter;
}

/**
 * The spool's own numbers: counters of spans (`tasklens.spool.spans.*`) and of metric exports
 * (`tasklens.spool.metric_exports.*`) spooled, replayed and dropped (by `reason`), and one
 * stderr line the first time anything is dropped for each reason, so a loss is never silent.
 * Counting starts once {@link SpoolReport.observeWith} gave a meter, before the spool starts.
 */
export class SpoolReport {
  private spans?: SignalCounters;
  private metricExports?: SignalCounters;
  private readonly warned = new Set<SpoolDropReason>();

  /** Creates the counters on `meter`. */
  observeWith(meter: Meter): void {
    this.spans = {
      spooled: meter.createCounter('tasklens.spool.spans.spooled', {
        description: 'Spans written to the on-disk spool because the collector did not take them',
        unit: '{span}',
      }),
      replayed: meter.createCounter('tasklens.spool.spans.replayed', {
        description: 'Spooled spans the collector took later',
        unit: '{span}',
      }),
      dropped: meter.createCounter('tasklens.spool.spans.dropped', {
        description: 'Spans lost although spooling was on, by reason',
        unit: '{span}',
      }),
    };
    this.metricExports = {
      spooled: meter.createCounter('tasklens.spool.metric_exports.spooled', {
        description: 'Last metric exports of exiting processes written to the on-disk spool',
        unit: '{export}',
      }),
      replayed: meter.createCounter('tasklens.spool.metric_exports.replayed', {
        description: 'Spooled metric exports the collector took later',
        unit: '{export}',
      }),
      dropped: meter.createCounter('tasklens.spool.metric_exports.dropped', {
        description: 'Metric exports lost although spooling was on, by reason',
        unit: '{export}',
      }),
    };
  }

  /** The directory could not be created: one line now, and later drops go uncommented. */
  unusable(path: string, reason: string): void {
    this.warned.add('unwritable');
    reportProblem(
      `tasklens: the telemetry spool at ${path} cannot be used (${reason}); telemetry the collector does not take is dropped and counted in tasklens.spool.*.dropped`,
    );
  }

  spooled(kind: SpoolEntry['kind'], items: number): void {
    this.count('spooled', kind, items);
  }

  replayed(entry: SpoolEntry): void {
    this.count('replayed', entry.kind, entry.items);
  }

  /** Counts a loss and says so on stderr the first time for this reason. */
  dropped(kind: SpoolEntry['kind'], items: number, reason: SpoolDropReason, where: string): void {
    this.count('dropped', kind, items, reason);
    if (this.warned.has(reason)) return;
    this.warned.add(reason);
    const what = kind === 'metrics' ? 'a metric export' : `${items} span${items === 1 ? '' : 's'}`;
    reportProblem(
      `tasklens: dropped ${what} because ${DROP_MESSAGES[reason]} (${where}); further drops are counted in tasklens.spool.*.dropped, not repeated`,
    );
  }

  private count(
    what: keyof SignalCounters,
    kind: SpoolEntry['kind'],
    items: number,
    reason?: SpoolDropReason,
  ): void {
    const counters = kind === 'metrics' ? this.metricExports : this.spans;
    if (counters === undefined) return;
    const amount = kind === 'metrics' ? 1 : items;
    counters[what].add(amount, reason === undefined ? undefined : { reason });
  }
}
