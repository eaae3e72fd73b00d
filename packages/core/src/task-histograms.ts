import type { Attributes, HrTime } from '@opentelemetry/api';

/**
 * One attribute set of a cumulative explicit-bucket histogram, kept by tasklens itself: a record
 * is a bucket search over the fixed boundaries and four additions, where the SDK's own histogram
 * hashes the attribute set on every record. Reported through {@link TaskMetricsSink}.
 */
export class HistogramPoint {
  /** One count per bucket: `boundaries.length + 1`, the last for values above every boundary. */
  readonly counts: number[];
  sum = 0;
  count = 0;
  min = Infinity;
  max = -Infinity;
  /** When the first value was recorded (the start of the cumulative series). */
  readonly startTime: HrTime;

  constructor(
    readonly attributes: Attributes,
    private readonly boundaries: readonly number[],
  ) {
    this.counts = new Array<number>(boundaries.length + 1).fill(0);
    this.startTime = hrTimeNow();
  }

  record(value: number): void {
    const { boundaries } = this;
    // Boundaries are inclusive upper bounds, as in the SDK's explicit-bucket histogram.
    let bucket = 0;
    while (bucket < boundaries.length && value > boundaries[bucket]) bucket++;
    this.counts[bucket] += 1;
    this.sum += value;
    this.count += 1;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }
}

/** A histogram's data points as a metric sink hands them to the SDK. */
export interface CollectedHistogram {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly boundaries: readonly number[];
  readonly points: readonly HistogramPoint[];
}

/**
 * What the SDK set-up of @tasklens/node puts on its MeterProvider under
 * {@link TASK_METRICS_SINK}: tasklens then keeps its histograms itself and the sink's metric
 * producer reports them with every collection, as the SDK's own histograms would be (cumulative,
 * same names, units, buckets and attribute sets). A provider without it gets the histograms
 * through the metrics API.
 */
export interface TaskMetricsSink {
  /** The version of this contract; this side speaks 1. */
  readonly version: 1;
  /**
   * Called once per provider with the instrumentation scope of the histograms and the function
   * that reads them at collection time.
   */
  attach(
    scope: { name: string; version: string },
    collect: () => readonly CollectedHistogram[],
  ): void;
}

/** The property of a MeterProvider that holds its {@link TaskMetricsSink}. */
export const TASK_METRICS_SINK = Symbol.for('tasklens.task-metrics-sink');

function hrTimeNow(): HrTime {
  const ms = performance.timeOrigin + performance.now();
  const seconds = Math.trunc(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

/** The SDK's default cardinality limit per metric: beyond it, one overflow point takes the rest. */
const MAX_POINTS = 2000;
const OVERFLOW_ATTRIBUTES: Attributes = { 'otel.metric.overflow': true };

/**
 * The points of one histogram, created on first use of an attribute set and kept for the life
 * of the provider (cumulative). Past the SDK's cardinality limit new attribute sets fold into one
 * `otel.metric.overflow` point, as the SDK does.
 */
export class DirectHistogram {
  private readonly points: HistogramPoint[] = [];
  private overflow: HistogramPoint | undefined;

  constructor(
    readonly name: string,
    readonly description: string,
    readonly unit: string,
    readonly boundaries: readonly number[],
  ) {}

  /** A new point for this attribute set (the caller keeps it: no lookup per record). */
  point(attributes: Attributes): HistogramPoint {
    if (this.points.length < MAX_POINTS - 1) {
      const point = new HistogramPoint(attributes, this.boundaries);
      this.points.push(point);
      return point;
    }
    return this.overflowPoint();
  }

  /** The point of series past tasklens's own series limit (they are not kept apart). */
  overflowPoint(): HistogramPoint {
    this.overflow ??= new HistogramPoint(OVERFLOW_ATTRIBUTES, this.boundaries);
    return this.overflow;
  }

  collect(): CollectedHistogram {
    const points = this.points.filter((point) => point.count > 0);
    if (this.overflow !== undefined) points.push(this.overflow);
    const { name, description, unit, boundaries } = this;
    return { name, description, unit, boundaries, points };
  }
}
