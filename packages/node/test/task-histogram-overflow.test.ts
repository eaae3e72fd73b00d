/*
 * Past the SDK's cardinality limit (2000 attribute sets per metric) the histograms tasklens keeps
 * fold the same attempts into the same overflow point as the SDK's. A file of its own: the series
 * tasklens knows are per process, and other scenarios would count toward its series limit.
 */
import { metrics } from '@opentelemetry/api';
import { afterEach, expect, it } from 'vitest';
import { histograms, recordScenario, runManyNames } from './support/task-histogram-scenarios.js';

afterEach(() => metrics.disable());

it('task histograms past the cardinality limit, fold the same attempts into the same overflow point', async () => {
  const throughApi = histograms(await recordScenario(false, runManyNames));
  const throughSink = histograms(await recordScenario(true, runManyNames));
  // task.duration and task.pipeline.duration alike.
  for (const histogram of throughApi.slice(0, 2)) {
    const overflow = histogram.points.find((point) => point.attributes['otel.metric.overflow']);
    expect(histogram.points).toHaveLength(2000);
    expect(overflow?.value).toMatchObject({ count: 101 });
  }
  expect(throughApi[1].descriptor.name).toBe('task.pipeline.duration');
  expect(throughSink).toEqual(throughApi);
});
