import type { Counter, Meter } from '@opentelemetry/api';
import type { SpoolEntry } from './spool-directory.js';
import { SPOOL_METRICS } from './spool-metric-names.js';
import type { SpoolEvent, SpoolSignal } from './spool-metric-names.js';
import { reportProblem } from './report.js';

/** Why spooled telemetry was dropped: the label of the dropped counters. */
export type SpoolDropReason =
  /** The spool reached its size cap. */
  | 'full'
  /** The spool directory could not be written (read-only, full disk, not a directory). */
  | 'unwritable'
  /** The collector refused the spooled request for good (a 4xx other than 429). */
  | 'rejected'
  /** A metric export older than Prometheus accepts samples (see {@link Spool}). */
  | 'expired';

const DROP_MESSAGES: Record<SpoolDropReason, string> = {
  full: 'the spool is full',
  unwritable: 'the spool directory cannot be written',
  rejected: 'the collector rejected it',
  expired: 'it is older than Prometheus accepts',
};

interface SignalCounters {
  spooled: Counter;
  replayed: Counter;
  dropped: Counter;
}

function createCounters(meter: Meter, what: SpoolSignal, described: string): SignalCounters {
  const counter = (event: SpoolEvent, description: string): Counter =>
    meter.createCounter(SPOOL_METRICS[what][event].name, {
      description: `${described} ${description}`,
      unit: SPOOL_METRICS[what][event].unit,
    });
  return {
    spooled: counter(
      'spooled',
      'written to the on-disk spool because the collector did not take them',
    ),
    replayed: counter('replayed', 'from the spool that the collector took later'),
    dropped: counter('dropped', 'lost although spooling was on, by reason'),
  };
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
    this.spans = createCounters(meter, 'spans', 'Spans');
    this.metricExports = createCounters(meter, 'metric_exports', 'Metric exports');
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
