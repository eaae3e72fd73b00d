import { createNoopMeter, metrics, ValueType } from '@opentelemetry/api';
import type { Attributes, Counter, Meter, MeterProvider } from '@opentelemetry/api';
import { TASK_METRICS } from './metric-names.js';
import { DirectHistograms, TASK_METRICS_SINK } from './task-histograms.js';
import type { HistogramInfo, TaskHistograms, TaskMetricsSink } from './task-histograms.js';
import {
  activeByKey,
  lastSuccessByName,
  outcomeAttributes,
  pipelineAttributes,
} from './task-series.js';
import type { GaugeState } from './task-series.js';
import { SCOPE_NAME, SCOPE_VERSION } from './version.js';

/** Bucket boundaries, in seconds, of task durations and queue waits: 5 ms to 1 h. */
export const TASK_DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600,
];

/** What an attempt records to (names and units are a public contract). */
export interface TaskInstruments extends TaskHistograms {
  retries: Counter;
  waitClockSkew: Counter;
  pipelineClockSkew: Counter;
  carrierRejected: Counter;
}

/** The duration, wait and pipeline histograms through the metrics API, for any SDK. */
function apiHistograms(meter: Meter): TaskHistograms {
  const advice = { explicitBucketBoundaries: [...TASK_DURATION_BUCKETS] };
  const create = ({ name, description, unit }: HistogramInfo) =>
    meter.createHistogram(name, { description, unit, valueType: ValueType.DOUBLE, advice });
  const duration = create(DURATION_HISTOGRAM);
  const wait = create(WAIT_HISTOGRAM);
  const pipeline = create(PIPELINE_HISTOGRAM);
  return {
    // The attempt's context goes along, for an SDK that takes exemplars from it.
    recordDuration: (series, outcome, errorType, seconds, { context }) =>
      duration.record(seconds, outcomeAttributes(series, outcome, errorType), context),
    recordWait: (series, seconds, { context }) => wait.record(seconds, series.attributes, context),
    recordPipeline: (series, outcome, seconds, { context }) =>
      pipeline.record(seconds, pipelineAttributes(series, outcome), context),
  };
}

function metricsSinkOf(provider: MeterProvider): TaskMetricsSink | undefined {
  const sink = (provider as { [TASK_METRICS_SINK]?: TaskMetricsSink })[TASK_METRICS_SINK];
  return sink?.version === 1 ? sink : undefined;
}

const DURATION_HISTOGRAM: HistogramInfo = {
  name: TASK_METRICS.duration.name,
  unit: TASK_METRICS.duration.unit,
  description: 'Duration of task attempts, by outcome.',
  boundaries: TASK_DURATION_BUCKETS,
};
const WAIT_HISTOGRAM: HistogramInfo = {
  name: TASK_METRICS.waitDuration.name,
  unit: TASK_METRICS.waitDuration.unit,
  description: 'Time tasks waited in their queue before an attempt started.',
  boundaries: TASK_DURATION_BUCKETS,
};

const PIPELINE_HISTOGRAM: HistogramInfo = {
  name: TASK_METRICS.pipelineDuration.name,
  unit: TASK_METRICS.pipelineDuration.unit,
  description:
    'Time from the first enqueue of a task chain to the end of an attempt of one of its tasks.',
  boundaries: TASK_DURATION_BUCKETS,
};

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
  const withBuckets = (info: HistogramInfo, boundaries: readonly number[] | undefined) =>
    boundaries === undefined ? info : { ...info, boundaries };
  const histograms =
    sink === undefined
      ? apiHistograms(meter)
      : new DirectHistograms(
          sink,
          withBuckets(DURATION_HISTOGRAM, sink.buckets?.duration),
          withBuckets(WAIT_HISTOGRAM, sink.buckets?.wait),
          withBuckets(PIPELINE_HISTOGRAM, sink.buckets?.pipeline),
        );
  return {
    recordDuration: histograms.recordDuration.bind(histograms),
    recordWait: histograms.recordWait.bind(histograms),
    recordPipeline: histograms.recordPipeline.bind(histograms),
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
    pipelineClockSkew: meter.createCounter(TASK_METRICS.pipelineClockSkew.name, {
      description:
        'Task attempts whose chain start lay in the future (clock skew); their pipeline ' +
        'duration counts as 0.',
      unit: TASK_METRICS.pipelineClockSkew.unit,
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
