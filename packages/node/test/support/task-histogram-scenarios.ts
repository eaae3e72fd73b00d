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

/** [queue, outcome, error, wait ms, duration ms] of each attempt. */
const SCENARIO: [
  string,
  'succeed' | 'fail' | 'timeOut' | 'cancel',
  Error | undefined,
  number,
  number,
][] = [
  ['emails', 'succeed', undefined, 3, 4],
  ['emails', 'succeed', undefined, 0, 12],
  ['emails', 'fail', new TypeError('bad'), 250, 7],
  ['emails', 'fail', new RangeError('far'), 9_000, 2_600],
  ['emails', 'fail', new TypeError('bad again'), 1, 1],
  ['emails', 'timeOut', new Timeout('slow'), 40, 30_000],
  ['emails', 'cancel', undefined, 5, 5],
  ['images', 'succeed', undefined, 7_200_000, 4_000_000],
  ['images', 'succeed', undefined, 10, 100],
];

export const resource = resourceFromAttributes({ 'service.name': 'sink-test' });

export function runScenario(): void {
  for (const [queue, end, error, waitMs, durationMs] of SCENARIO) {
    const attempt = startTaskAttempt({
      name: 'send',
      queue,
      system: 'test',
      waitStartedAt: Date.now() - waitMs,
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
    const attempt = startTaskAttempt({ name: `kind-${index}`, queue: 'many' });
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
