/*
 * The task histograms @tasklens/core keeps itself when @tasklens/node's SDK offers it the metric
 * sink are the same data as the SDK's own histograms would be: one scenario of attempts (every
 * outcome, several error types, queue waits, a long tail) recorded once through the metrics API
 * and once through the sink, on clocks that tick the same way, then collected and compared.
 */
import { metrics } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { startTaskAttempt } from '@tasklens/core/adapter';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TaskMetricsProducer } from '../src/task-metrics-producer.js';

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

const resource = resourceFromAttributes({ 'service.name': 'sink-test' });

function runScenario(): void {
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
function runManyNames(): void {
  for (let index = 0; index < 2100; index++) {
    const attempt = startTaskAttempt({ name: `kind-${index}`, queue: 'many' });
    vi.advanceTimersByTime(index % 50);
    attempt.succeed();
  }
}

async function recordScenario(direct: boolean, scenario: () => void): Promise<ResourceMetrics> {
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

function histograms(resourceMetrics: ResourceMetrics) {
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

afterEach(() => metrics.disable());

describe('task histograms kept by tasklens and reported through the metric sink', () => {
  it('are the data the SDK’s own histograms give for the same attempts', async () => {
    const throughApi = histograms(await recordScenario(false, runScenario));
    const throughSink = histograms(await recordScenario(true, runScenario));

    expect(throughApi.map((histogram) => histogram.descriptor.name)).toEqual([
      'task.duration',
      'task.wait.duration',
    ]);
    expect(throughApi[0].points).toHaveLength(6);
    expect(throughSink).toEqual(throughApi);
  });

  it('past the cardinality limit, fold the same attempts into the same overflow point', async () => {
    const throughApi = histograms(await recordScenario(false, runManyNames));
    const throughSink = histograms(await recordScenario(true, runManyNames));
    const overflow = throughApi[0].points.find((point) => point.attributes['otel.metric.overflow']);
    expect(throughApi[0].points).toHaveLength(2000);
    expect(overflow?.value).toMatchObject({ count: 101 });
    expect(throughSink).toEqual(throughApi);
  });

  it('collects nothing from the sink until core attaches to it', async () => {
    const producer = new TaskMetricsProducer(resource);
    const { resourceMetrics } = await producer.collect();
    expect(resourceMetrics.scopeMetrics).toEqual([]);
  });
});
