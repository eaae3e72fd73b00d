/*
 * The Prometheus pull endpoint serves the names and labels Prometheus's OTLP receiver stores for
 * the same metrics (translation_strategy UnderscoreEscapingWithSuffixes): unit and `_total`
 * suffixes, `job` and `instance` on every series, target_info without the identifying attributes.
 * A real PrometheusExporter on 127.0.0.1, read over HTTP.
 */
import { metrics } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { runTask, TASK_METRICS } from '@tasklens/core';
import { SPOOL_METRICS } from '@tasklens/node';
import { closedPort } from '@tasklens/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { prometheusMetricName, prometheusUnit } from '../src/prometheus-names.js';
import type { PrometheusMetricKind } from '../src/prometheus-names.js';
import { PrometheusPullExporter } from '../src/prometheus-pull-exporter.js';
import { TaskMetricsProducer } from '../src/task-metrics-producer.js';

describe('prometheusMetricName', () => {
  it.each<[string, string, PrometheusMetricKind, string]>([
    ['http.server.request.duration', 's', 'histogram', 'http_server_request_duration_seconds'],
    ['db.client.response.size', 'By', 'histogram', 'db_client_response_size_bytes'],
    ['process.uptime', 'ms', 'gauge', 'process_uptime_milliseconds'],
    ['network.io', 'By', 'counter', 'network_io_bytes_total'],
    ['network.rate', 'By/s', 'gauge', 'network_rate_bytes_per_second'],
    ['jobs.rate', '{job}/h', 'gauge', 'jobs_rate_per_hour'],
    ['cpu.utilization', '1', 'gauge', 'cpu_utilization_ratio'],
    ['hits.ratio', '1', 'gauge', 'hits_ratio'],
    ['requests', '1', 'counter', 'requests_total'],
    ['queue.fill', '1', 'up-down-counter', 'queue_fill'],
    ['tasks.active', '{task}', 'up-down-counter', 'tasks_active'],
    ['requests.total', '{request}', 'counter', 'requests_total'],
    ['requests.total.count', '', 'counter', 'requests_count_total'],
    ['disk.seconds.busy', 's', 'counter', 'disk_seconds_busy_total'],
    ['copy.bytes', 'By', 'gauge', 'copy_bytes'],
    ['room.temperature', 'Cel', 'gauge', 'room_temperature_celsius'],
    ['odd..name__here', 'widget', 'gauge', 'odd_name_here_widget'],
    ['5xx.responses', '{response}', 'counter', '_5xx_responses_total'],
  ])('%s in %s as a %s: %s', (name, unit, kind, expected) => {
    expect(prometheusMetricName(name, unit, kind)).toBe(expected);
  });

  it('gives core’s task metrics and the spool counters the names the rules read', () => {
    const kinds: Record<keyof typeof TASK_METRICS, PrometheusMetricKind> = {
      duration: 'histogram',
      waitDuration: 'histogram',
      pipelineDuration: 'histogram',
      active: 'up-down-counter',
      lastSuccess: 'gauge',
      retries: 'counter',
      waitClockSkew: 'counter',
      pipelineClockSkew: 'counter',
      carrierRejected: 'counter',
      queueWaiting: 'gauge',
      queueActive: 'gauge',
      queueDelayed: 'gauge',
      queueFailed: 'gauge',
      queueOldestWaitingAge: 'gauge',
      queueConsumers: 'gauge',
    };
    const spoolCounters = Object.values(SPOOL_METRICS).flatMap((events) => Object.values(events));
    const named = [
      ...Object.entries(TASK_METRICS).map(([key, metric]) => ({
        metric,
        kind: kinds[key as keyof typeof TASK_METRICS],
      })),
      ...spoolCounters.map((metric) => ({ metric, kind: 'counter' as const })),
    ];
    expect(named).toHaveLength(21);
    for (const { metric, kind } of named) {
      expect(prometheusMetricName(metric.name, metric.unit, kind)).toBe(metric.prometheusName);
    }
  });
});

describe('prometheusUnit', () => {
  it.each([
    ['s', 'seconds'],
    ['By/s', 'bytes_per_second'],
    ['1', ''],
    ['{task}', ''],
    ['%', 'percent'],
  ])('%s: "%s"', (unit, expected) => {
    expect(prometheusUnit(unit)).toBe(expected);
  });
});

/** One sample of an exposition: series name, labels, value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseExposition(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (match === null) throw new Error(`not a sample line: ${line}`);
      const labels: Record<string, string> = {};
      for (const label of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
        labels[label[1]] = label[2];
      }
      return { name: match[1], labels, value: Number(match[3]) };
    });
}

const exporters: PrometheusPullExporter[] = [];

afterEach(async () => {
  metrics.disable();
  await Promise.all(exporters.splice(0).map((exporter) => exporter.shutdown()));
});

/**
 * A meter provider with `resource`, read by a pull exporter on a free port with the task metrics
 * producer, registered globally as startTelemetry() does it; returns a scrape of the endpoint.
 */
async function servePullEndpoint(
  resource: Record<string, string>,
): Promise<{ scrape: () => Promise<string> }> {
  const port = await closedPort();
  const taskMetrics = new TaskMetricsProducer();
  const exporter = new PrometheusPullExporter({
    host: '127.0.0.1',
    port,
    preventServerStart: true,
    metricProducers: [taskMetrics],
  });
  exporters.push(exporter);
  const meterProvider = new MeterProvider({
    resource: resourceFromAttributes(resource),
    readers: [exporter],
  });
  taskMetrics.offerTo(meterProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  await exporter.startServer();
  return {
    scrape: async () => {
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(response.status).toBe(200);
      return response.text();
    },
  };
}

/** Tasks that give every kind of task metric: successes, a retried failure. */
async function runTasks(): Promise<void> {
  await runTask({ name: 'send-email', queue: 'emails' }, () => Promise.resolve());
  let attempts = 0;
  await runTask({ name: 'resize', attempts: 2 }, () => {
    attempts += 1;
    return attempts === 1 ? Promise.reject(new RangeError('too big')) : Promise.resolve();
  });
}

describe('PrometheusPullExporter', () => {
  it('serves the task metrics under the names the rules read, with job and instance', async () => {
    const endpoint = await servePullEndpoint({
      'service.name': 'mailer',
      'service.namespace': 'shop',
      'service.instance.id': 'pod-7',
      'deployment.environment.name': 'test',
    });
    await runTasks();
    const meter = metrics.getMeter('app');
    meter.createCounter('app.received', { unit: 'By' }).add(512);
    meter.createObservableGauge('app.cpu.utilization', { unit: '1' }).addCallback((result) => {
      result.observe(0.25);
    });

    const samples = parseExposition(await endpoint.scrape());
    const names = new Set(samples.map((sample) => sample.name));
    expect([...names].sort()).toEqual([
      'app_cpu_utilization_ratio',
      'app_received_bytes_total',
      'target_info',
      'task_active',
      'task_duration_seconds_bucket',
      'task_duration_seconds_count',
      'task_duration_seconds_sum',
      'task_last_success_seconds',
      'task_retries_total',
    ]);
    expect(samples.find((sample) => sample.name === 'target_info')?.labels).toEqual({
      job: 'shop/mailer',
      instance: 'pod-7',
      deployment_environment_name: 'test',
    });
    for (const sample of samples.filter((one) => one.name !== 'target_info')) {
      expect(sample.labels).toMatchObject({ job: 'shop/mailer', instance: 'pod-7' });
      expect(Object.keys(sample.labels).filter((label) => label.startsWith('otel_'))).toEqual([]);
    }
    expect(
      samples.filter(
        (sample) =>
          sample.name === 'task_duration_seconds_count' && sample.labels.task_name === 'resize',
      ),
    ).toEqual([
      {
        name: 'task_duration_seconds_count',
        labels: {
          task_name: 'resize',
          task_outcome: 'failure',
          error_type: 'RangeError',
          job: 'shop/mailer',
          instance: 'pod-7',
        },
        value: 1,
      },
      {
        name: 'task_duration_seconds_count',
        labels: {
          task_name: 'resize',
          task_outcome: 'success',
          job: 'shop/mailer',
          instance: 'pod-7',
        },
        value: 1,
      },
    ]);
    expect(samples.find((sample) => sample.name === 'task_retries_total')).toEqual({
      name: 'task_retries_total',
      labels: { task_name: 'resize', job: 'shop/mailer', instance: 'pod-7' },
      value: 1,
    });
  });

  it('names the job by service.name alone without a namespace, and serves Prometheus units', async () => {
    const endpoint = await servePullEndpoint({
      'service.name': 'mailer',
      'service.instance.id': 'pod-8',
    });
    await runTasks();
    const text = await endpoint.scrape();
    expect(text).toContain('# UNIT task_duration_seconds seconds\n');
    expect(text).toContain('# TYPE task_retries_total counter\n');
    const samples = parseExposition(text);
    expect(samples.find((sample) => sample.name === 'task_last_success_seconds')?.labels).toEqual({
      task_name: 'send-email',
      job: 'mailer',
      instance: 'pod-8',
    });
  });
});
