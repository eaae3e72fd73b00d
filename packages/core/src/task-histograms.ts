import { TraceFlags } from '@opentelemetry/api';
import type { Attributes, Context, HrTime, SpanContext } from '@opentelemetry/api';
import { outcomeAttributes, pipelineAttributes } from './task-series.js';
import type { TaskSeries } from './task-series.js';
import type { TaskOutcome } from './types.js';
import { SCOPE_NAME, SCOPE_VERSION } from './version.js';

/** A recorded value and the sampled span it was recorded in: the link from a metric to a trace. */
export interface HistogramExemplar {
  readonly value: number;
  /** When it was recorded. */
  readonly time: HrTime;
  readonly traceId: string;
  readonly spanId: string;
}

/** The latest sampled record of one bucket, overwritten in place by the next one. */
interface ExemplarSlot {
  value: number;
  timeMs: number;
  spanContext: SpanContext;
}

/**
 * One attribute set of a cumulative explicit-bucket histogram, kept by tasklens itself: a record
 * is a bucket search over the fixed boundaries and four additions, where the SDK's own histogram
 * hashes the attribute set on every record. Each bucket also keeps the latest value recorded in
 * a sampled span as its exemplar (as the SDK's aligned-bucket exemplar reservoir would; the JS SDK
 * does not attach exemplars itself). Reported through {@link TaskMetricsSink}.
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
  /** One slot per bucket, made on the first sampled record. */
  private exemplarSlots: (ExemplarSlot | undefined)[] | undefined;

  constructor(
    readonly attributes: Attributes,
    private readonly boundaries: readonly number[],
  ) {
    this.counts = new Array<number>(boundaries.length + 1).fill(0);
    this.startTime = hrTimeNow();
  }

  /** Records `value`; `source`'s span, when sampled, becomes the exemplar of its bucket. */
  record(value: number, source: RecordSource): void {
    const { boundaries } = this;
    // Boundaries are inclusive upper bounds, as in the SDK's explicit-bucket histogram.
    let bucket = 0;
    while (bucket < boundaries.length && value > boundaries[bucket]) bucket++;
    this.counts[bucket] += 1;
    this.sum += value;
    this.count += 1;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    // A trace sampled out is never exported, so it is never an exemplar either.
    if ((source.spanContext.traceFlags & TraceFlags.SAMPLED) !== 0) {
      this.keepExemplar(bucket, value, source);
    }
  }

  /** The latest sampled record of each bucket, in bucket order. */
  exemplars(): HistogramExemplar[] {
    const exemplars: HistogramExemplar[] = [];
    for (const slot of this.exemplarSlots ?? []) {
      if (slot === undefined) continue;
      const { traceId, spanId } = slot.spanContext;
      exemplars.push({ value: slot.value, time: hrTimeOf(slot.timeMs), traceId, spanId });
    }
    return exemplars;
  }

  private keepExemplar(bucket: number, value: number, source: RecordSource): void {
    const slots = (this.exemplarSlots ??= new Array<ExemplarSlot | undefined>(this.counts.length));
    const slot = slots[bucket];
    const { spanContext, timeMs } = source;
    if (slot === undefined) {
      slots[bucket] = { value, timeMs, spanContext };
    } else {
      slot.value = value;
      slot.timeMs = timeMs;
      slot.spanContext = spanContext;
    }
  }
}

/** What describes a histogram: the instrument's name, description, unit and bucket boundaries. */
export interface HistogramInfo {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly boundaries: readonly number[];
}

/** A histogram's data points as a metric sink hands them to the SDK. */
export interface CollectedHistogram extends HistogramInfo {
  readonly points: readonly HistogramPoint[];
}

/**
 * The attempt a value is recorded for, as a histogram needs it: its context (for an SDK that takes
 * exemplars from it), its span context (the exemplar, when sampled) and the time of the record,
 * read once by the attempt for everything it records at that moment.
 */
export interface RecordSource {
  readonly context: Context;
  readonly spanContext: SpanContext;
  /** Milliseconds since the epoch. */
  readonly timeMs: number;
}

/** How an attempt's duration, queue wait and pipeline duration are recorded. */
export interface TaskHistograms {
  recordDuration(
    series: TaskSeries,
    outcome: TaskOutcome,
    errorType: string | undefined,
    seconds: number,
    source: RecordSource,
  ): void;
  recordWait(series: TaskSeries, seconds: number, source: RecordSource): void;
  /** The time from the start of the attempt's task chain to its end. */
  recordPipeline(
    series: TaskSeries,
    outcome: TaskOutcome,
    seconds: number,
    source: RecordSource,
  ): void;
}

/** The histogram points of one series, found without a lookup on every record. */
export interface SeriesPoints {
  readonly owner: TaskHistograms;
  wait?: HistogramPoint;
  success?: HistogramPoint;
  cancelled?: HistogramPoint;
  /** By outcome (`failure`, `timeout`) and error type. */
  readonly failures: Map<string, HistogramPoint>;
  /** Pipeline duration by outcome (points shared with the series of other messaging systems). */
  readonly pipeline: Partial<Record<TaskOutcome, HistogramPoint>>;
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
   * Bucket boundaries in seconds, increasing, in place of the defaults (`TASK_DURATION_BUCKETS`)
   * for the histograms named; a sink without them (from @tasklens/node before 0.3) gets the
   * defaults.
   */
  readonly buckets?: Readonly<Partial<Record<TaskHistogramName, readonly number[]>>>;
  /**
   * Called once per provider with the instrumentation scope of the histograms and the function
   * that reads them at collection time.
   */
  attach(
    scope: { name: string; version: string },
    collect: () => readonly CollectedHistogram[],
  ): void;
}

/** The task histograms whose buckets a {@link TaskMetricsSink} may set. */
export type TaskHistogramName = 'duration' | 'wait' | 'pipeline';

/** The property of a MeterProvider that holds its {@link TaskMetricsSink}. */
export const TASK_METRICS_SINK = Symbol.for('tasklens.task-metrics-sink');

function hrTimeOf(ms: number): HrTime {
  const seconds = Math.trunc(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

function hrTimeNow(): HrTime {
  return hrTimeOf(performance.timeOrigin + performance.now());
}

/** The SDK's default cardinality limit per metric: beyond it, one overflow point takes the rest. */
const MAX_POINTS = 2000;
const OVERFLOW_ATTRIBUTES: Attributes = { 'otel.metric.overflow': true };

/**
 * The points of one histogram, created on first use of an attribute set and kept for the life
 * of the provider (cumulative). Past the SDK's cardinality limit new attribute sets fold into one
 * `otel.metric.overflow` point, as the SDK does.
 */
class DirectHistogram {
  private readonly points: HistogramPoint[] = [];
  private overflow: HistogramPoint | undefined;
  private readonly boundaries: readonly number[];
  /** Points that several series share, by a key of their attribute set. */
  private readonly shared = new Map<string, HistogramPoint>();

  constructor(private readonly info: HistogramInfo) {
    this.boundaries = info.boundaries;
  }

  /** A new point for this attribute set (the caller keeps it: no lookup per record). */
  point(attributes: Attributes): HistogramPoint {
    if (this.points.length < MAX_POINTS - 1) {
      const point = new HistogramPoint(attributes, this.boundaries);
      this.points.push(point);
      return point;
    }
    return this.overflowPoint();
  }

  /** The point of an attribute set that several series record to, found by its `key`. */
  sharedPoint(key: string, attributes: Attributes): HistogramPoint {
    let point = this.shared.get(key);
    if (point === undefined) {
      point = this.point(attributes);
      this.shared.set(key, point);
    }
    return point;
  }

  /** The point of series past tasklens's own series limit (they are not kept apart). */
  overflowPoint(): HistogramPoint {
    this.overflow ??= new HistogramPoint(OVERFLOW_ATTRIBUTES, this.boundaries);
    return this.overflow;
  }

  collect(): CollectedHistogram {
    const points = this.points.filter((point) => point.count > 0);
    if (this.overflow !== undefined && this.overflow.count > 0) points.push(this.overflow);
    return { ...this.info, points };
  }
}

/**
 * The duration, wait and pipeline histograms kept by tasklens itself, for the SDK set up by
 * @tasklens/node, which reports them through its metric sink: a record finds its point on the
 * series and adds to it, with no attribute hashing.
 */
export class DirectHistograms implements TaskHistograms {
  private readonly duration: DirectHistogram;
  private readonly wait: DirectHistogram;
  private readonly pipeline: DirectHistogram;

  constructor(
    sink: TaskMetricsSink,
    duration: HistogramInfo,
    wait: HistogramInfo,
    pipeline: HistogramInfo,
  ) {
    this.duration = new DirectHistogram(duration);
    this.wait = new DirectHistogram(wait);
    this.pipeline = new DirectHistogram(pipeline);
    sink.attach({ name: SCOPE_NAME, version: SCOPE_VERSION }, () => [
      this.duration.collect(),
      this.wait.collect(),
      this.pipeline.collect(),
    ]);
  }

  recordDuration(
    series: TaskSeries,
    outcome: TaskOutcome,
    errorType: string | undefined,
    seconds: number,
    source: RecordSource,
  ): void {
    const points = this.pointsOf(series);
    let point: HistogramPoint;
    if (outcome === 'success') {
      point = points.success ??= this.duration.point(series.successAttributes);
    } else if (outcome === 'cancelled') {
      point = points.cancelled ??= this.duration.point(series.cancelledAttributes);
    } else {
      const key = `${outcome}\u0000${errorType ?? ''}`;
      let failure = points.failures.get(key);
      if (failure === undefined) {
        failure = series.overflowed
          ? this.duration.overflowPoint()
          : this.duration.point(outcomeAttributes(series, outcome, errorType));
        points.failures.set(key, failure);
      }
      point = failure;
    }
    point.record(seconds, source);
  }

  recordWait(series: TaskSeries, seconds: number, source: RecordSource): void {
    const points = this.pointsOf(series);
    (points.wait ??= this.wait.point(series.attributes)).record(seconds, source);
  }

  recordPipeline(
    series: TaskSeries,
    outcome: TaskOutcome,
    seconds: number,
    source: RecordSource,
  ): void {
    const points = this.pointsOf(series);
    // Series of other messaging systems share the (task, queue, outcome) attribute set.
    (points.pipeline[outcome] ??= this.pipeline.sharedPoint(
      `${series.queueKey}\u0000${outcome}`,
      pipelineAttributes(series, outcome),
    )).record(seconds, source);
  }

  private pointsOf(series: TaskSeries): SeriesPoints {
    let points = series.points;
    if (points?.owner === this) return points;
    points = { owner: this, failures: new Map(), pipeline: {} };
    // A series past tasklens's series limit is a new object every attempt: it goes to the
    // overflow points at once (the SDK folds the same attribute sets there, give or take the
    // order in which the limits are reached).
    if (series.overflowed) {
      points.wait = this.wait.overflowPoint();
      points.success = points.cancelled = this.duration.overflowPoint();
    } else series.points = points;
    return points;
  }
}
