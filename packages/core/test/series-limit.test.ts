import { diag } from '@opentelemetry/api';
import { afterAll, expect, it } from 'vitest';
import { runTask } from '@tasklens/core';
import { captureDiagWarnings, startInMemoryTelemetry } from '@tasklens/test-utils';

// Its own file: the series table is per process, and vitest gives every file a fresh one.
const telemetry = startInMemoryTelemetry();
afterAll(() => telemetry.shutdown());

it('keeps at most 2000 task series in its gauges, warns once, and still measures every task', async () => {
  const warnings = captureDiagWarnings();

  for (let index = 0; index < 2000; index++) {
    await runTask({ name: `kind-${index}` }, () => Promise.resolve());
  }
  await runTask({ name: 'one-too-many' }, () => Promise.resolve());
  await runTask({ name: 'two-too-many' }, () => Promise.resolve());

  const lastSuccess = await telemetry.metricPoints('task.last_success');
  expect(lastSuccess).toHaveLength(2000);
  expect(lastSuccess.map((point) => point.attributes['task.name'])).not.toContain('one-too-many');
  // Every task is still measured: the SDK's own cardinality limit (2000 streams per instrument,
  // the overflow stream among them) keeps 1999 task series and folds the last three tasks'
  // durations into its overflow series.
  const durations = await telemetry.metricPoints('task.duration');
  expect(durations.reduce((sum, point) => sum + (point.count ?? 0), 0)).toBe(2002);
  expect(
    durations.find((point) => point.attributes['otel.metric.overflow'] === true),
  ).toMatchObject({ count: 3 });
  expect(warnings.filter((message) => message.includes('more than 2000'))).toEqual([
    'tasklens: more than 2000 (task, queue, system) series; task.active and task.last_success are not reported for further ones. Task names and queues must be kinds of work, not ids.',
  ]);
  diag.disable();
});
