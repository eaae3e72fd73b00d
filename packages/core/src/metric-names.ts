/**
 * One metric tasklens records: its OpenTelemetry name and unit, and the name Prometheus stores
 * it under after the collector's translation (dots to underscores, the unit as a suffix,
 * `_total` on counters; a histogram adds `_bucket`, `_sum` and `_count`).
 */
export interface TaskMetricName {
  readonly name: string;
  readonly unit: string;
  readonly prometheusName: string;
}

/** The task metrics: names and units are a public contract (rules, dashboard, `tasklens stats`). */
export const TASK_METRICS = {
  /** Histogram of attempt durations, by outcome and error type. */
  duration: { name: 'task.duration', unit: 's', prometheusName: 'task_duration_seconds' },
  /** Histogram of the time tasks waited in their queue. */
  waitDuration: {
    name: 'task.wait.duration',
    unit: 's',
    prometheusName: 'task_wait_duration_seconds',
  },
  /** Histogram of the time from the first enqueue of a task chain to the end of an attempt. */
  pipelineDuration: {
    name: 'task.pipeline.duration',
    unit: 's',
    prometheusName: 'task_pipeline_duration_seconds',
  },
  /** Attempts in flight. */
  active: { name: 'task.active', unit: '{task}', prometheusName: 'task_active' },
  /** Time of the last successful attempt, in seconds since the epoch. */
  lastSuccess: {
    name: 'task.last_success',
    unit: 's',
    prometheusName: 'task_last_success_seconds',
  },
  /** Failed attempts that will be retried. */
  retries: { name: 'task.retries', unit: '{retry}', prometheusName: 'task_retries_total' },
  /** Tasks whose enqueue time lay in the future. */
  waitClockSkew: {
    name: 'task.wait.clock_skew',
    unit: '{task}',
    prometheusName: 'task_wait_clock_skew_total',
  },
  /** Attempts whose task chain started in the future. */
  pipelineClockSkew: {
    name: 'task.pipeline.clock_skew',
    unit: '{task}',
    prometheusName: 'task_pipeline_clock_skew_total',
  },
  /** Carriers dropped as malformed, oversized or hostile. */
  carrierRejected: {
    name: 'task.carrier.rejected',
    unit: '{carrier}',
    prometheusName: 'task_carrier_rejected_total',
  },
  /** Tasks waiting in a queue (observable gauge, polled from the broker; see queue-depth.ts). */
  queueWaiting: {
    name: 'task.queue.waiting',
    unit: '{task}',
    prometheusName: 'task_queue_waiting',
  },
  /** Tasks a worker holds and has not finished (BullMQ active, JetStream ack pending). */
  queueActive: { name: 'task.queue.active', unit: '{task}', prometheusName: 'task_queue_active' },
  /** Tasks scheduled for later (BullMQ delayed). */
  queueDelayed: {
    name: 'task.queue.delayed',
    unit: '{task}',
    prometheusName: 'task_queue_delayed',
  },
  /** Tasks kept as failed (BullMQ failed). */
  queueFailed: { name: 'task.queue.failed', unit: '{task}', prometheusName: 'task_queue_failed' },
  /** Age of the oldest waiting task, where the broker tells it (BullMQ, JetStream). */
  queueOldestWaitingAge: {
    name: 'task.queue.oldest_waiting_age',
    unit: 's',
    prometheusName: 'task_queue_oldest_waiting_age_seconds',
  },
  /** Consumers attached to the queue (RabbitMQ). */
  queueConsumers: {
    name: 'task.queue.consumers',
    unit: '{consumer}',
    prometheusName: 'task_queue_consumers',
  },
} as const satisfies Record<string, TaskMetricName>;

/** The Prometheus label of a metric attribute (`task.name` → `task_name`). */
export function prometheusLabel(attribute: string): string {
  return attribute.replace(/[^a-zA-Z0-9_]/g, '_');
}
