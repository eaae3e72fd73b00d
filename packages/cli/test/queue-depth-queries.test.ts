/*
 * The queue depth columns of the task rows (`tasklens stats`, the console): their PromQL, and how
 * collectTaskRows puts a queue's reading on the rows of its tasks, with a fake Prometheus. That
 * Prometheus answers them from real gauges is queue-depth-end-to-end.integration.test.ts.
 */
import { describe, expect, it } from 'vitest';

import type { PrometheusClient, PrometheusSample } from '../src/prometheus-client.js';
import { collectTaskRows, queueRowQueries } from '../src/task-queries/collect.js';
import {
  dashboardExpressions,
  recordingRuleExpressions,
} from '../src/task-queries/deploy-queries.js';

/** A Prometheus that answers the queue queries with `queues` and every task query with `tasks`. */
function fakePrometheus(
  tasks: PrometheusSample[],
  queues: { waiting: PrometheusSample[]; age: PrometheusSample[] },
): PrometheusClient {
  const fake = {
    query: (expression: string): Promise<PrometheusSample[]> => {
      if (expression.includes('task_queue_waiting')) return Promise.resolve(queues.waiting);
      if (expression.includes('task_queue_oldest_waiting_age')) return Promise.resolve(queues.age);
      if (expression.startsWith('sum by (job, task_name, task_queue, messaging_system) ('))
        return Promise.resolve(tasks);
      return Promise.resolve([]);
    },
  };
  return fake as unknown as PrometheusClient;
}

const task = (queue: string, system: string, value: number): PrometheusSample => ({
  labels: {
    job: 'worker',
    task_name: `${queue}-task`,
    task_queue: queue,
    messaging_system: system,
  },
  value,
});
const queue = (name: string, system: string, value: number): PrometheusSample => ({
  labels: { task_queue: name, messaging_system: system },
  value,
});

describe('queue depth queries', () => {
  it('take the largest reading per queue and system, never the sum, with no task or job filter', () => {
    expect(queueRowQueries()).toEqual({
      waiting: 'max by (task_queue, messaging_system) (task_queue_waiting)',
      oldestWaitingAgeSeconds:
        'max by (task_queue, messaging_system) (task_queue_oldest_waiting_age_seconds)',
    });
    expect(queueRowQueries({ task: 'send', service: 'mailer', queue: 'mail' }).waiting).toBe(
      'max by (task_queue, messaging_system) (task_queue_waiting{task_queue="mail"})',
    );
  });

  it('are the recording rules and dashboard panels of the same definitions', () => {
    const rules = recordingRuleExpressions();
    expect(rules['task_queue:task_queue_waiting:max']).toBe(queueRowQueries().waiting);
    expect(rules['task_queue:task_queue_oldest_waiting_age_seconds:max']).toBe(
      queueRowQueries().oldestWaitingAgeSeconds,
    );
    expect(rules['task_queue:task_attempts:rate5m']).toBe(
      'sum by (task_queue, messaging_system) (rate(task_duration_seconds_count[5m] anchored))',
    );
    const waitingPanel = dashboardExpressions().find((target) => target.panelId === 11);
    expect(waitingPanel?.expr).toBe(
      'max by (task_queue, messaging_system) (task_queue_waiting{task_queue=~"$task_queue"})',
    );
  });
});

describe('collectTaskRows with queue depth', () => {
  const client = fakePrometheus([task('mail', 'bullmq', 5), task('mail', 'rabbitmq', 2)], {
    waiting: [queue('mail', 'bullmq', 40), queue('stuck', 'rabbitmq', 9)],
    age: [queue('mail', 'bullmq', 120)],
  });

  it('puts a queue’s reading on its tasks’ rows of the same system; absent gauges stay null', async () => {
    const rows = await collectTaskRows(client, 3600);
    const bullmq = rows.find((row) => row.queue === 'mail' && row.system === 'bullmq');
    const rabbitmq = rows.find((row) => row.queue === 'mail' && row.system === 'rabbitmq');
    expect(bullmq).toMatchObject({ runs: 5, waiting: 40, oldestWaitingAgeSeconds: 120 });
    expect(rabbitmq).toMatchObject({ runs: 2, waiting: null, oldestWaitingAgeSeconds: null });
  });

  it('gives a queue with waiting tasks and no attempts a row of its own, unless a task is asked for', async () => {
    const rows = await collectTaskRows(client, 3600);
    expect(rows.find((row) => row.queue === 'stuck')).toMatchObject({
      service: '',
      task: '',
      system: 'rabbitmq',
      runs: null,
      waiting: 9,
      oldestWaitingAgeSeconds: null,
    });
    const filtered = await collectTaskRows(client, 3600, { task: 'mail-task' });
    expect(filtered.find((row) => row.queue === 'stuck')).toBeUndefined();
  });
});
