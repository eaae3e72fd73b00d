import { createNoopMeter, metrics, ValueType } from '@opentelemetry/api';
import type {
  Counter,
  Gauge,
  Histogram,
  Meter,
  MeterProvider,
  UpDownCounter,
} from '@opentelemetry/api';
import { SCOPE_NAME, SCOPE_VERSION } from './version.js';

/** Bucket boundaries, in seconds, of task durations and queue waits: 5 ms to 1 h. */
export const TASK_DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600,
];

/** The instruments tasklens records to (names and units are part of the public contract). */
export interface TaskInstruments {
  duration: Histogram;
  waitDuration: Histogram;
  active: UpDownCounter;
  retries: Counter;
  lastSuccess: Gauge;
  waitClockSkew: Counter;
  carrierRejected: Counter;
}

function createInstruments(meter: Meter): TaskInstruments {
  const advice = { explicitBucketBoundaries: [...TASK_DURATION_BUCKETS] };
  return {
    duration: meter.createHistogram('task.duration', {
      description: 'Duration of task attempts, by outcome.',
      unit: 's',
      valueType: ValueType.DOUBLE,
      advice,
    }),
    waitDuration: meter.createHistogram('task.wait.duration', {
      description: 'Time tasks waited in their queue before an attempt started.',
      unit: 's',
      valueType: ValueType.DOUBLE,
      advice,
    }),
    active: meter.createUpDownCounter('task.active', {
      description: 'Task attempts in flight.',
      unit: '{task}',
      valueType: ValueType.INT,
    }),
    retries: meter.createCounter('task.retries', {
      description: 'Failed task attempts that will be retried.',
      unit: '{retry}',
      valueType: ValueType.INT,
    }),
    lastSuccess: meter.createGauge('task.last_success', {
      description: 'Time of the last successful attempt, in seconds since the Unix epoch.',
      unit: 's',
      valueType: ValueType.DOUBLE,
    }),
    waitClockSkew: meter.createCounter('task.wait.clock_skew', {
      description:
        'Tasks whose enqueue time lay in the future (clock skew); their wait counts as 0.',
      unit: '{task}',
      valueType: ValueType.INT,
    }),
    carrierRejected: meter.createCounter('task.carrier.rejected', {
      description:
        'Carriers dropped as malformed, oversized or hostile; their tasks ran as new traces.',
      unit: '{carrier}',
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
