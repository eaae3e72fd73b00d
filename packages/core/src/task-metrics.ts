import { createNoopMeter, diag, metrics, ValueType } from '@opentelemetry/api';
import type { Attributes, Counter, Histogram, Meter, MeterProvider } from '@opentelemetry/api';
import {
  ATTR_MESSAGING_SYSTEM,
  ATTR_TASK_NAME,
  ATTR_TASK_OUTCOME,
  ATTR_TASK_QUEUE,
} from './semconv.js';
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
  };
}

/** The series of a task; past {@link MAX_SERIES} series, new ones are built but not reported. */
export function taskSeries(
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
      ...buildSeries(name, queue, system),
      active: { attributes: {}, value: undefined },
      lastSuccess: { attributes: {}, value: undefined },
    };
  }
  const series = buildSeries(name, queue, system);
  seriesByKey.set(key, series);
  return series;
}

/** The synchronous instruments tasklens records to (names and units are a public contract). */
export interface TaskInstruments {
  duration: Histogram;
  waitDuration: Histogram;
  retries: Counter;
  waitClockSkew: Counter;
  carrierRejected: Counter;
}

function observeAll(map: Map<unknown, GaugeState>) {
  return (result: { observe(value: number, attributes: Attributes): void }): void => {
    for (const state of map.values()) {
      if (state.value !== undefined) result.observe(state.value, state.attributes);
    }
  };
}

function createInstruments(meter: Meter): TaskInstruments {
  const advice = { explicitBucketBoundaries: [...TASK_DURATION_BUCKETS] };
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
  return {
    duration: meter.createHistogram(TASK_METRICS.duration.name, {
      description: 'Duration of task attempts, by outcome.',
      unit: TASK_METRICS.duration.unit,
      valueType: ValueType.DOUBLE,
      advice,
    }),
    waitDuration: meter.createHistogram(TASK_METRICS.waitDuration.name, {
      description: 'Time tasks waited in their queue before an attempt started.',
      unit: TASK_METRICS.waitDuration.unit,
      valueType: ValueType.DOUBLE,
      advice,
    }),
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
      instruments: meter.constructor === NoopMeterClass ? undefined : createInstruments(meter),
    };
  }
  return cached.instruments;
}
