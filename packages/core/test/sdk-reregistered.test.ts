/*
 * An SDK shut down and another registered in the same process (a test suite, a hot reload): the
 * next tasks' spans go to the new one, as do their metrics.
 */
import { expect, it } from 'vitest';
import { runTask, sendTask } from '@tasklens/core';
import { registerSdk } from '@tasklens/test-utils';

it('sends spans and metrics to the SDK registered now, not the first one', async () => {
  const first = registerSdk();
  await runTask({ name: 'before' }, () => 1);
  expect(first.finishedSpans().map((span) => span.name)).toEqual(['before']);
  await first.shutdown();

  const second = registerSdk();
  try {
    await runTask({ name: 'after' }, () => 2);
    await sendTask({ name: 'sent', queue: 'q' }, () => undefined);
    expect(second.finishedSpans().map((span) => span.name)).toEqual(['after', 'send q']);
    const { scopeMetrics } = await second.collectMetrics();
    const names = scopeMetrics.flatMap((scope) =>
      scope.metrics.map((metric) => metric.descriptor.name),
    );
    expect(names).toContain('task.duration');
  } finally {
    await second.shutdown();
  }
});
