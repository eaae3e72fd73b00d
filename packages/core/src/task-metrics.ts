import { createNoopMeter, diag, metrics, ValueType } from '@opentelemetry/api';
import type { Attributes, Counter, Meter, MeterProvider } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_TASK_NAME,
  ATTR_TASK_OUTCOME,
  ATTR_TASK_QUEUE,
} from './semconv.js';
import { DirectHistogram, TASK_METRICS_SINK } from './task-histograms.js';
import type { HistogramPoint, TaskMetricsSink } from './task-histograms.js';
import type { TaskOutcome } from './types.js';
import { TASK_METRICS } from './metric-names.js';
import { SCOPE_NAME, SCOPE_VERSION } from './version.js';

/** Bucket boundaries, in seconds, of task durations and queue waits: 5 ms to 1 h. */
export const TASK_DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600,
];

/** Most distinct (task, queue, system) series kept; task names must be kinds of work, not ids. */
const MAX_SERIES = 2000;

/** Gauge state of one task name (last success) and of one (task, queue) pair (in flight). */
interface GaugeState {
  readonly attributes: Attributes;
  value: number | undefined;
}

/**
 * The attribute sets of one (task name, queue, messaging system) series, built once and reused
 * by every attempt, with the shared in-flight and last-success state the observable
 * instruments report. In-flight and last success are kept here rather than recorded through
 * the SDK on every task, which keeps a task's metric cost to one histogram record.
 */
export interface TaskSeries {
  /** task.name, task.queue, messaging.system: the labels of wait and of outcome-less metrics. */
  readonly attributes: Attributes;
  /** task.name and task.queue: the labels of in-flight and retries. */
  readonly activeAttributes: Attributes;
  readonly successAttributes: Attributes;
  readonly cancelledAttributes: Attributes;
  readonly active: GaugeState;
  readonly lastSuccess: GaugeState;
  /** `name \0 queue \0 system`. */
  readonly key: string;
  /** Past the series limit: not kept, so a new object for every attempt. */
  readonly overflowed: boolean;
  /** This series' points in tasklens's own histograms, for the provider that owns them. */
  points: SeriesPoints | undefined;
}

/** The histogram points of one series, found without a lookup on every record. */
interface SeriesPoints {
  readonly owner: DirectHistograms;
  wait?: HistogramPoint;
  success?: HistogramPoint;
  cancelled?: HistogramPoint;
  /** By outcome (`failure`, `timeout`) and error type. */
  readonly failures: Map<string, HistogramPoint>;
}

const seriesByKey = new Map<string, TaskSeries>();
const activeByKey = new Map<string, GaugeState>();
const lastSuccessByName = new Map<string, GaugeState>();
let overflowWarned = false;

function gauge<K>(map: Map<K, GaugeState>, key: K, attributes: Attributes): GaugeState {
  let state = map.get(key);
  if (state === undefined) {
    state = { attributes, value: undefined };
    map.set(key, state);
  }
  return state;
}

function buildSeries(
  key: string,
  name: string,
  queue: string | undefined,
  system: string | undefined,
): TaskSeries {
  const activeAttributes: Attributes = { [ATTR_TASK_NAME]: name };
  if (queue !== undefined) activeAttributes[ATTR_TASK_QUEUE] = queue;
  const attributes: Attributes = { ...activeAttributes };
  if (system !== undefined) attributes[ATTR_MESSAGING_SYSTEM] = system;
  return {
    attributes,
    activeAttributes,
    successAttributes: { ...attributes, [ATTR_TASK_OUTCOME]: 'success' },
    cancelledAttributes: { ...attributes, [ATTR_TASK_OUTCOME]: 'cancelled' },
    active: gauge(activeByKey, `${name}\u0000${queue ?? ''}`, activeAttributes),
    lastSuccess: gauge(lastSuccessByName, name, { [ATTR_TASK_NAME]: name }),
    key,
    overflowed: false,
    points: undefined,
  };
}

/** The series of a task; past {@link MAX_SERIES} series, new ones are built but not reported. */
export function taskSeries(
  name: string,
  queue: string | undefined,
  system: string | undefined,
): TaskSeries {
  // A worker mostly runs one kind of task after another: the last series, without a lookup.
  const last = lastSeries;
  if (last !== undefined && last.name === name && last.queue === queue && last.system === system) {
    return last.series;
  }
  const series = lookUpSeries(name, queue, system);
  if (!series.overflowed) lastSeries = { name, queue, system, series };
  return series;
}

let lastSeries:
  | { name: string; queue: string | undefined; system: string | undefined; series: TaskSeries }
  | undefined;

function lookUpSeries(
  name: string,
  queue: string | undefined,
  system: string | undefined,
): TaskSeries {
  const key = `${name}\u0000${queue ?? ''}\u0000${system ?? ''}`;
  const known = seriesByKey.get(key);
  if (known !== undefined) return known;
  if (seriesByKey.size >= MAX_SERIES) {
    if (!overflowWarned) {
      overflowWarned = true;
      diag.warn(
        `tasklens: more than ${MAX_SERIES} (task, queue, system) series; task.active and ` +
          'task.last_success are not reported for further ones. Task names and queues must be ' +
          'kinds of work, not ids.',
      );
    }
    return {
      ...buildSeries(key, name, queue, system),
      active: { attributes: {}, value: undefined },
      lastSuccess: { attributes: {}, value: undefined },
      overflowed: true,
    };
  }
  const series = buildSeries(key, name, queue, system);
  seriesByKey.set(key, series);
  return series;
}

/** What an attempt records to (names and units are a public contract). */
export interface TaskInstruments {
  recordDuration(
    series: TaskSeries,
    outcome: TaskOutcome,
    errorType: string | undefined,
    seconds: number,
  ): void;
  recordWait(series: TaskSeries, seconds: number): void;
  retries: Counter;
  waitClockSkew: Counter;
  carrierRejected: Counter;
}

function outcomeAttributes(
  series: TaskSeries,
  outcome: TaskOutcome,
  errorType: string | undefined,
): Attributes {
  if (outcome === 'success') return series.successAttributes;
  if (outcome === 'cancelled') return series.cancelledAttributes;
  return { ...series.attributes, [ATTR_TASK_OUTCOME]: outcome, [ATTR_ERROR_TYPE]: errorType };
}

/** The duration and wait histograms through the metrics API, for any SDK. */
function apiHistograms(meter: Meter): Pick<TaskInstruments, 'recordDuration' | 'recordWait'> {
  const advice = { explicitBucketBoundaries: [...TASK_DURATION_BUCKETS] };
  const duration = meter.createHistogram(TASK_METRICS.duration.name, {
    description: DURATION_DESCRIPTION,
    unit: TASK_METRICS.duration.unit,
    valueType: ValueType.DOUBLE,
    advice,
  });
  const wait = meter.createHistogram(TASK_METRICS.waitDuration.name, {
    description: WAIT_DESCRIPTION,
    unit: TASK_METRICS.waitDuration.unit,
    valueType: ValueType.DOUBLE,
    advice,
  });
  return {
    recordDuration: (series, outcome, errorType, seconds) =>
      duration.record(seconds, outcomeAttributes(series, outcome, errorType)),
    recordWait: (series, seconds) => wait.record(seconds, series.attributes),
  };
}

/**
 * The duration and wait histograms kept by tasklens itself, for the SDK set up by
 * @tasklens/node, which reports them through its metric sink: a record finds its point on the
 * series and adds to it, with no attribute hashing.
 */
class DirectHistograms implements Pick<TaskInstruments, 'recordDuration' | 'recordWait'> {
  private readonly duration = new DirectHistogram(
    TASK_METRICS.duration.name,
    DURATION_DESCRIPTION,
    TASK_METRICS.duration.unit,
    TASK_DURATION_BUCKETS,
  );
  private readonly wait = new DirectHistogram(
    TASK_METRICS.waitDuration.name,
    WAIT_DESCRIPTION,
    TASK_METRICS.waitDuration.unit,
    TASK_DURATION_BUCKETS,
  );

  constructor(sink: TaskMetricsSink) {
    sink.attach({ name: SCOPE_NAME, version: SCOPE_VERSION }, () => [
      this.duration.collect(),
      this.wait.collect(),
    ]);
  }

  /** The points of series past the series limit, found by key (bounded like the points). */
  private readonly overflowedSeries = new Map<string, SeriesPoints>();

  recordDuration(
    series: TaskSeries,
    outcome: TaskOutcome,
    errorType: string | undefined,
    seconds: number,
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
        failure = this.duration.point(outcomeAttributes(series, outcome, errorType));
        points.failures.set(key, failure);
      }
      point = failure;
    }
    point.record(seconds);
  }

  recordWait(series: TaskSeries, seconds: number): void {
    const points = this.pointsOf(series);
    (points.wait ??= this.wait.point(series.attributes)).record(seconds);
  }

  private pointsOf(series: TaskSeries): SeriesPoints {
    let points = series.points;
    if (points?.owner === this) return points;
    if (series.overflowed) return this.overflowedPointsOf(series.key);
    points = { owner: this, failures: new Map() };
    series.points = points;
    return points;
  }

  private overflowedPointsOf(key: string): SeriesPoints {
    let points = this.overflowedSeries.get(key);
    if (points !== undefined) return points;
    points = { owner: this, failures: new Map() };
    if (this.overflowedSeries.size < MAX_SERIES) this.overflowedSeries.set(key, points);
    else {
      // Past both limits every attribute set is already in the overflow point.
      points.wait = this.wait.overflowPoint();
      points.success = points.cancelled = this.duration.overflowPoint();
    }
    return points;
  }
}

function metricsSinkOf(provider: MeterProvider): TaskMetricsSink | undefined {
  const sink = (provider as { [TASK_METRICS_SINK]?: TaskMetricsSink })[TASK_METRICS_SINK];
  return sink?.version === 1 ? sink : undefined;
}

const DURATION_DESCRIPTION = 'Duration of task attempts, by outcome.';
const WAIT_DESCRIPTION = 'Time tasks waited in their queue before an attempt started.';

function observeAll(map: Map<unknown, GaugeState>) {
  return (result: { observe(value: number, attributes: Attributes): void }): void => {
    for (const state of map.values()) {
      if (state.value !== undefined) result.observe(state.value, state.attributes);
    }
  };
}

function createInstruments(meter: Meter, sink: TaskMetricsSink | undefined): TaskInstruments {
  meter
    .createObservableUpDownCounter(TASK_METRICS.active.name, {
      description: 'Task attempts in flight.',
      unit: TASK_METRICS.active.unit,
      valueType: ValueType.INT,
    })
    .addCallback(observeAll(activeByKey));
  meter
    .createObservableGauge(TASK_METRICS.lastSuccess.name, {
      description: 'Time of the last successful attempt, in seconds since the Unix epoch.',
      unit: TASK_METRICS.lastSuccess.unit,
      valueType: ValueType.DOUBLE,
    })
    .addCallback(observeAll(lastSuccessByName));
  const histograms = sink === undefined ? apiHistograms(meter) : new DirectHistograms(sink);
  return {
    recordDuration: histograms.recordDuration.bind(histograms),
    recordWait: histograms.recordWait.bind(histograms),
    retries: meter.createCounter(TASK_METRICS.retries.name, {
      description: 'Failed task attempts that will be retried.',
      unit: TASK_METRICS.retries.unit,
      valueType: ValueType.INT,
    }),
    waitClockSkew: meter.createCounter(TASK_METRICS.waitClockSkew.name, {
      description:
        'Tasks whose enqueue time lay in the future (clock skew); their wait counts as 0.',
      unit: TASK_METRICS.waitClockSkew.unit,
      valueType: ValueType.INT,
    }),
    carrierRejected: meter.createCounter(TASK_METRICS.carrierRejected.name, {
      description:
        'Carriers dropped as malformed, oversized or hostile; their tasks ran as new traces.',
      unit: TASK_METRICS.carrierRejected.unit,
      valueType: ValueType.INT,
    }),
  };
}

const NoopMeterClass = createNoopMeter().constructor;

let cached: { provider: MeterProvider; instruments: TaskInstruments | undefined } | undefined;

/**
 * The instruments of the global meter provider, created once per provider; `undefined` while
 * no SDK is registered (the API's meter provider is not a proxy, so a provider registered
 * later is picked up here on the next task).
 */
export function currentTaskInstruments(): TaskInstruments | undefined {
  const provider = metrics.getMeterProvider();
  if (cached?.provider !== provider) {
    const meter = provider.getMeter(SCOPE_NAME, SCOPE_VERSION);
    cached = {
      provider,
      instruments:
        meter.constructor === NoopMeterClass
          ? undefined
          : createInstruments(meter, metricsSinkOf(provider)),
    };
  }
  return cached.instruments;
}
