/*
 * Attempts recorded once through the SDK's own histograms and once through the metric sink of
 * TaskMetricsProducer, on clocks that tick the same way, and the histograms collected from each.
 */
import { metrics } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { startTaskAttempt } from '@tasklens/core/adapter';
import { vi } from 'vitest';
import { TaskMetricsProducer } from '../../src/task-metrics-producer.js';

class PullReader extends MetricReader {
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

class Timeout extends Error {}

/**
 * [queue, system, outcome, error, wait ms, duration ms, ms from the chain's start to the wait's]
 * of each attempt (no chain start: the attempt is in no task chain).
 */
const SCENARIO: [
  string,
  string,
  'succeed' | 'fail' | 'timeOut' | 'cancel',
  Error | undefined,
  number,
  number,
  number | undefined,
][] = [
  ['emails', 'test', 'succeed', undefined, 3, 4, 0],
  ['emails', 'test', 'succeed', undefined, 0, 12, undefined],
  ['emails', 'test', 'fail', new TypeError('bad'), 250, 7, 1_500],
  ['emails', 'test', 'fail', new RangeError('far'), 9_000, 2_600, 60_000],
  ['emails', 'test', 'fail', new TypeError('bad again'), 1, 1, 0],
  ['emails', 'test', 'timeOut', new Timeout('slow'), 40, 30_000, 10],
  ['emails', 'test', 'cancel', undefined, 5, 5, 20],
  ['images', 'test', 'succeed', undefined, 7_200_000, 4_000_000, 90_000],
  ['images', 'test', 'succeed', undefined, 10, 100, undefined],
  // Another system's series of the same task and queue: one pipeline series with the first.
  ['images', 'other', 'succeed', undefined, 10, 300, 2_000],
];

export const resource = resourceFromAttributes({ 'service.name': 'sink-test' });

export function runScenario(): void {
  for (const [queue, system, end, error, waitMs, durationMs, chainMs] of SCENARIO) {
    const waitStartedAt = Date.now() - waitMs;
    const attempt = startTaskAttempt({
      name: 'send',
      queue,
      system,
      waitStartedAt,
      ...(chainMs === undefined ? {} : { pipelineStartedAt: waitStartedAt - chainMs }),
    });
    vi.advanceTimersByTime(durationMs);
    if (end === 'succeed') attempt.succeed();
    else if (end === 'cancel') attempt.cancel();
    else attempt[end](error, { willRetry: false });
  }
}

/** More task names than the SDK's cardinality limit (2000 attribute sets per metric). */
export function runManyNames(): void {
  for (let index = 0; index < 2100; index++) {
    const attempt = startTaskAttempt({
      name: `kind-${index}`,
      queue: 'many',
      pipelineStartedAt: Date.now() - index,
    });
    vi.advanceTimersByTime(index % 50);
    attempt.succeed();
  }
}

export async function recordScenario(
  direct: boolean,
  scenario: () => void,
): Promise<ResourceMetrics> {
  const producer = new TaskMetricsProducer(resource);
  const reader = new PullReader(direct ? { metricProducers: [producer] } : {});
  const provider = new MeterProvider({ resource, readers: [reader] });
  if (direct) producer.offerTo(provider);
  metrics.disable();
  metrics.setGlobalMeterProvider(provider);
  vi.useFakeTimers({ toFake: ['performance', 'Date'], now: 1_800_000_000_000 });
  try {
    scenario();
  } finally {
    vi.useRealTimers();
  }
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  return resourceMetrics;
}

export function histograms(resourceMetrics: ResourceMetrics) {
  return resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics.map((metric) => ({ scope: scope.scope.name, metric })))
    .filter(({ metric }) => metric.descriptor.name.endsWith('duration'))
    .map(({ scope, metric }) => ({
      scope,
      descriptor: metric.descriptor,
      temporality: metric.aggregationTemporality,
      type: metric.dataPointType,
      points: metric.dataPoints
        .map((point) => ({ attributes: point.attributes, value: point.value }))
        .sort((a, b) => JSON.stringify(a.attributes).localeCompare(JSON.stringify(b.attributes))),
    }))
    .sort((a, b) => a.descriptor.name.localeCompare(b.descriptor.name));
}
