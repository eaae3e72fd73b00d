/*
 * The task histograms @tasklens/core keeps itself when @tasklens/node's SDK offers it the metric
 * sink are the same data as the SDK's own histograms would be: one scenario of attempts (every
 * outcome, several error types, queue waits, task chains, a long tail) recorded once through the metrics API
 * and once through the sink, on clocks that tick the same way, then collected and compared.
 */
import { metrics } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { TaskMetricsProducer } from '../src/task-metrics-producer.js';
import {
  histograms,
  recordScenario,
  resource,
  runScenario,
} from './support/task-histogram-scenarios.js';

afterEach(() => metrics.disable());

describe('task histograms kept by tasklens and reported through the metric sink', () => {
  it('are the data the SDK’s own histograms give for the same attempts', async () => {
    const throughApi = histograms(await recordScenario(false, runScenario));
    const throughSink = histograms(await recordScenario(true, runScenario));

    expect(throughApi.map((histogram) => histogram.descriptor.name)).toEqual([
      'task.duration',
      'task.pipeline.duration',
      'task.wait.duration',
    ]);
    expect(throughApi[0].points).toHaveLength(7);
    // task name, queue and outcome: success and failure of emails, timeout, cancelled, images.
    expect(throughApi[1].points).toHaveLength(5);
    expect(throughSink).toEqual(throughApi);
  });

  it('collects nothing from the sink until core attaches to it', async () => {
    const producer = new TaskMetricsProducer(resource);
    const { resourceMetrics } = await producer.collect();
    expect(resourceMetrics.scopeMetrics).toEqual([]);
  });
});
