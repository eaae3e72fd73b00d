/*
 * The PromQL the task query definitions render for `tasklens stats`, the console, the dashboard
 * and the rules. That Prometheus accepts and answers them is queries-end-to-end.integration.test.ts.
 */
import { describe, expect, it } from 'vitest';

import {
  failedAttemptsSelector,
  failureCountQueries,
  seriesStepSeconds,
  taskRowQueries,
  taskSeriesQueries,
} from '../src/task-queries/collect.js';
import { recordingRuleExpressions } from '../src/task-queries/deploy-queries.js';

const count = 'task_duration_seconds_count{task_name="backup"}';
const growth = `((last_over_time(${count}[3600s]) - ${count} offset 3600s) or last_over_time(${count}[3600s]))`;
const ROW = 'job, task_name, task_queue, messaging_system';

describe('task row queries', () => {
  const queries = taskRowQueries(3600, { task: 'backup' });

  it('count runs as growth over the window, series born inside it from zero', () => {
    expect(queries.runs).toBe(`sum by (${ROW}) (${growth})`);
    expect(queries.ratePerSecond).toBe(`sum by (${ROW}) (${growth} / 3600)`);
  });

  it('count failure, timeout and lost as failed, cancelled attempts on neither side', () => {
    expect(queries.failurePercent).toMatch(
      /^100 \* \(sum by \([^)]*\) \(.*task_outcome=~"failure\|timeout\|lost"/,
    );
    expect(queries.failurePercent).toContain('task_outcome!="cancelled", task_name="backup"');
    expect(queries.failurePercent).toMatch(/ > 0\)$/);
  });

  it('take quantiles of the grown buckets', () => {
    expect(queries.p50DurationSeconds).toMatch(
      new RegExp(
        `^histogram_quantile\\(0\\.5, sum by \\(${ROW}, le\\) \\(\\(\\(last_over_time\\(task_duration_seconds_bucket\\{task_name="backup"\\}\\[3600s\\]\\)`,
      ),
    );
    expect(queries.p95WaitSeconds).toContain('histogram_quantile(0.95, sum by (' + ROW + ', le)');
    expect(queries.p95WaitSeconds).toContain(
      'task_wait_duration_seconds_bucket{task_name="backup"}',
    );
  });

  it('leave out the labels a metric does not carry', () => {
    const bySystem = taskRowQueries(600, { system: 'bullmq', queue: 'mail' });
    expect(bySystem.inFlight).toBe(
      'sum by (job, task_name, task_queue) (task_active{task_queue="mail"})',
    );
    expect(bySystem.p95PipelineSeconds).toContain('sum by (job, task_name, task_queue, le)');
    expect(bySystem.p95PipelineSeconds).toContain(
      'task_pipeline_duration_seconds_bucket{task_queue="mail"}',
    );
    expect(bySystem.lastSuccessAgeSeconds).toBe(
      'time() - max by (job, task_name) (max_over_time(task_last_success_seconds[600s]))',
    );
    expect(bySystem.runs).toContain(
      'task_duration_seconds_count{task_queue="mail", messaging_system="bullmq"}',
    );
  });

  it('escape filter values as PromQL strings', () => {
    expect(taskRowQueries(60, { task: 'a"b\\c' }).inFlight).toContain('task_name="a\\"b\\\\c"');
  });
});

describe('chart and failure queries', () => {
  it('give per-second growth over each step for one task', () => {
    const key = { service: 'worker', task: 'send-email', queue: '', system: '' };
    const charts = taskSeriesQueries(60, key);
    const selector =
      'task_duration_seconds_count{job="worker", task_name="send-email", task_queue="", messaging_system=""}';
    expect(charts.runsPerSecond).toBe(
      `sum by () (((last_over_time(${selector}[60s]) - ${selector} offset 60s) or last_over_time(${selector}[60s])) / 60)`,
    );
    expect(charts.failuresPerSecond).toMatch(
      /^sum by \(\) \(.*failure\|timeout.* or sum by \(\) \(.*\) \* 0$/,
    );
  });

  it('choose whole-minute steps of at most 120 points', () => {
    expect([900, 3600, 21600, 86400, 604800].map(seriesStepSeconds)).toEqual([
      60, 60, 180, 720, 5040,
    ]);
    for (const range of [900, 3600, 21600, 86400, 604800]) {
      expect(range / seriesStepSeconds(range)).toBeLessThanOrEqual(120);
    }
  });

  it('count failed attempts by outcome and error type, over the window and per step', () => {
    const queries = failureCountQueries(3600, 60, { service: 'worker', outcome: 'timeout' });
    const labels = `${ROW}, task_outcome, error_type`;
    expect(queries.count).toMatch(new RegExp(`^sum by \\(${labels}\\) `));
    expect(queries.count).toContain(
      'task_duration_seconds_count{task_outcome=~"failure|timeout|lost", job="worker", task_outcome="timeout"}[3600s]',
    );
    expect(queries.perStep).toContain('offset 60s');
    expect(failedAttemptsSelector({ task: 't' })).toBe(
      'task_duration_seconds_bucket{task_outcome=~"failure|timeout|lost", task_name="t"}',
    );
  });
});

describe('recording rule expressions', () => {
  it('use anchored rates over 5m with the same measures', () => {
    const rules = recordingRuleExpressions();
    expect(rules['task:task_wait_duration_seconds:p95_5m']).toBe(
      'histogram_quantile(0.95, sum by (job, task_name, task_queue, le) (rate(task_wait_duration_seconds_bucket[5m] anchored)))',
    );
    expect(rules['task:task_active:sum']).toBe('sum by (job, task_name, task_queue) (task_active)');
  });
});
