/*
 * One set of metric names on every path into Prometheus: a real Prometheus 3 scraping a process
 * run with OTEL_METRICS_EXPORTER=prometheus (`honor_labels: true`) stores every metric that the
 * shipped alert and recording rules and the dashboard read, under the names and with the `job`
 * and `instance` they expect; the rules load and evaluate. The same workload in a second process
 * pushes OTLP to the same Prometheus's OTLP receiver (the translation of
 * deploy/prometheus/prometheus.yml), and in a third through the collector with
 * deploy/collector/remote-write.yaml into its remote-write receiver: all three give the same
 * series.
 *
 * Prometheus runs with deploy/prometheus/prometheus.yml, its scrape targets replaced by the
 * workload's endpoint, its intervals cut to a second, and no Alertmanager.
 *
 * The workload (fixtures/task-metrics-workload.mjs) produces every metric the rules and the
 * dashboard read, faults included: a retried failure, a malformed carrier, and spans dropped
 * because the spool directory cannot be written while no collector listens.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dump, load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedBinaryPaths } from '@tasklens/stack';
import { eventually, startNodeProcess } from '@tasklens/test-utils';
import type { NodeProcess } from '@tasklens/test-utils';
import { recordedNames, ruleMetricNames } from './rule-metric-names.js';
import { REPO_DIR } from './run-tool.js';

const WORKLOAD = fileURLToPath(new URL('./fixtures/task-metrics-workload.mjs', import.meta.url));

/** This file's ports (24800–24899 are its own), all on 127.0.0.1. */
const PORT_BASE = 24800;
const PORTS = {
  prometheus: PORT_BASE,
  pullEndpoint: PORT_BASE + 1,
  /** Where the workloads send spans: nothing listens there. */
  noCollector: PORT_BASE + 2,
  /** The remote-write path's collector: OTLP/HTTP, OTLP/gRPC, health, telemetry, its hop. */
  collectorHttp: PORT_BASE + 3,
  collectorGrpc: PORT_BASE + 4,
  collectorHealth: PORT_BASE + 5,
  collectorTelemetry: PORT_BASE + 6,
  collectorHop: PORT_BASE + 7,
};
const PROMETHEUS_URL = `http://127.0.0.1:${PORTS.prometheus}`;

/** The workloads' service: Prometheus's OTLP receiver names the job `namespace/name`. */
const SERVICE_NAMESPACE = 'shop';
const SERVICE_NAME = 'pull-path-workload';
const JOB = `${SERVICE_NAMESPACE}/${SERVICE_NAME}`;
/** service.instance.id of each workload: the `instance` of its series. */
const PULL_INSTANCE = 'pull-1';
const OTLP_INSTANCE = 'otlp-1';
const REMOTE_WRITE_INSTANCE = 'remote-write-1';

const work = mkdtempSync(join(tmpdir(), 'tasklens-pull-path-'));
let prometheus: ChildProcess | undefined;
let collector: ChildProcess | undefined;
const workloads: NodeProcess[] = [];

/**
 * deploy/prometheus/prometheus.yml (its OTLP translation, validation scheme and storage kept) with
 * the shipped rules, one scrape of the pull endpoint, one-second intervals and no Alertmanager.
 */
function prometheusConfig(): string {
  const shipped = load(
    readFileSync(join(REPO_DIR, 'deploy/prometheus/prometheus.yml'), 'utf8'),
  ) as Record<string, unknown> & { global: Record<string, unknown> };
  const config: Record<string, unknown> = {
    ...shipped,
    global: { ...shipped.global, scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: [join(REPO_DIR, 'deploy/prometheus/rules/*.yml')],
    scrape_configs: [
      {
        job_name: 'tasklens-pull',
        honor_labels: true,
        static_configs: [{ targets: [`127.0.0.1:${PORTS.pullEndpoint}`] }],
      },
    ],
  };
  delete config.alerting;
  return dump(config);
}

async function startPrometheus(): Promise<ChildProcess> {
  const binary = (await expectedBinaryPaths(REPO_DIR)).prometheus;
  if (!existsSync(binary)) {
    throw new Error(`Prometheus is not built (${binary}): run bash scripts/setup.sh`);
  }
  writeFileSync(join(work, 'prometheus.yml'), prometheusConfig());
  const log = openSync(join(work, 'prometheus.log'), 'a');
  const child = spawn(
    binary,
    [
      `--config.file=${join(work, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(work, 'data')}`,
      `--web.listen-address=127.0.0.1:${PORTS.prometheus}`,
      // The second workload's OTLP path and the third's remote write.
      '--web.enable-otlp-receiver',
      '--web.enable-remote-write-receiver',
    ],
    { stdio: ['ignore', log, log] },
  );
  try {
    await eventually(
      'Prometheus ready',
      async () => ((await fetch(`${PROMETHEUS_URL}/-/ready`)).ok ? true : undefined),
      30_000,
    );
  } catch (error) {
    child.kill('SIGTERM');
    throw new Error(
      `${(error as Error).message}; its log:\n${readFileSync(join(work, 'prometheus.log'), 'utf8')}`,
    );
  }
  return child;
}

/** The collector with otel-collector.yaml and deploy/collector/remote-write.yaml, writing here. */
async function startRemoteWriteCollector(): Promise<ChildProcess> {
  const binary = (await expectedBinaryPaths(REPO_DIR)).collector;
  const log = openSync(join(work, 'collector.log'), 'a');
  const child = spawn(
    binary,
    [
      '--config',
      join(REPO_DIR, 'otel-collector.yaml'),
      '--config',
      join(REPO_DIR, 'deploy/collector/remote-write.yaml'),
    ],
    {
      stdio: ['ignore', log, log],
      env: {
        PATH: process.env.PATH,
        OTLP_HTTP_ENDPOINT: `127.0.0.1:${PORTS.collectorHttp}`,
        OTLP_GRPC_ENDPOINT: `127.0.0.1:${PORTS.collectorGrpc}`,
        COLLECTOR_HEALTH_ENDPOINT: `127.0.0.1:${PORTS.collectorHealth}`,
        COLLECTOR_TELEMETRY_PORT: String(PORTS.collectorTelemetry),
        COLLECTOR_FILE_STORAGE_DIR: join(work, 'file_storage'),
        JAEGER_OTLP_GRPC_ENDPOINT: `127.0.0.1:${PORTS.noCollector}`,
        REMOTE_WRITE_URL: `${PROMETHEUS_URL}/api/v1/write`,
        REMOTE_WRITE_LOOP_ENDPOINT: `127.0.0.1:${PORTS.collectorHop}`,
      },
    },
  );
  await eventually(
    'the collector ready',
    async () => ((await fetch(`http://127.0.0.1:${PORTS.collectorHealth}/`)).ok ? true : undefined),
    30_000,
  );
  return child;
}

/** Runs the workload with `env` over the common settings; resolves once its tasks ran. */
async function startWorkload(instance: string, env: Record<string, string>): Promise<void> {
  let ready: () => void = () => undefined;
  const readyLine = new Promise<void>((resolve) => (ready = resolve));
  const workload = startNodeProcess(
    [WORKLOAD],
    `http://127.0.0.1:${PORTS.noCollector}`,
    {
      OTEL_SERVICE_NAME: SERVICE_NAME,
      OTEL_RESOURCE_ATTRIBUTES: `service.namespace=${SERVICE_NAMESPACE},service.instance.id=${instance}`,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      // mkdir fails under a file: spans the absent collector does not take are dropped, counted.
      TASKLENS_SPOOL_DIR: join(work, 'not-a-directory', 'spool'),
      ...env,
    },
    (line) => {
      if (line === 'ready') ready();
    },
  );
  workloads.push(workload);
  const first = await Promise.race([
    readyLine.then(() => 'ready' as const),
    workload.exited.then((code) => ({ code })),
  ]);
  if (first !== 'ready') {
    throw new Error(`the ${instance} workload exited (${String(first.code)}) before its tasks ran`);
  }
}

/** The label sets of the series matching `selector`. */
async function series(selector: string): Promise<Record<string, string>[]> {
  const query = new URLSearchParams({ 'match[]': selector }).toString();
  const response = await fetch(`${PROMETHEUS_URL}/api/v1/series?${query}`);
  const body = (await response.json()) as { status: string; data: Record<string, string>[] };
  if (body.status !== 'success') throw new Error(`series ${selector}: ${JSON.stringify(body)}`);
  return body.data;
}

/**
 * A workload's series, `instance` left out, each as `name{label="value",…}` with sorted labels.
 * Prometheus 3 writes the `le` of a scraped classic histogram as a float (`1.0`) and keeps the one
 * of an OTLP point as sent (`1`), so `le` is compared without a trailing `.0` (no rule or panel
 * matches an `le` value).
 */
async function seriesOf(instance: string): Promise<string[]> {
  return (await series(`{job="${JOB}",instance="${instance}"}`))
    .map(({ __name__: name, instance: _instance, ...labels }) => {
      const sorted = Object.entries(labels)
        .map(([key, value]) => [key, key === 'le' ? value.replace(/\.0$/, '') : value])
        .sort(([a], [b]) => a.localeCompare(b));
      return `${name}{${sorted.map(([key, value]) => `${key}="${value}"`).join(',')}}`;
    })
    .sort();
}

beforeAll(async () => {
  writeFileSync(join(work, 'not-a-directory'), '');
  prometheus = await startPrometheus();
  await startWorkload(PULL_INSTANCE, {
    OTEL_METRICS_EXPORTER: 'prometheus',
    OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
    OTEL_EXPORTER_PROMETHEUS_PORT: String(PORTS.pullEndpoint),
  });
  await startWorkload(OTLP_INSTANCE, {
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${PROMETHEUS_URL}/api/v1/otlp/v1/metrics`,
  });
  collector = await startRemoteWriteCollector();
  await startWorkload(REMOTE_WRITE_INSTANCE, {
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `http://127.0.0.1:${PORTS.collectorHttp}/v1/metrics`,
  });
}, 90_000);

afterAll(async () => {
  for (const workload of workloads) workload.child.kill('SIGTERM');
  await Promise.all(workloads.map((workload) => workload.exited));
  for (const child of [collector, prometheus]) {
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }
  rmSync(work, { recursive: true, force: true });
});

describe('the metric names on the pull, OTLP and remote-write paths', () => {
  it('finds every metric the rules and the dashboard read, with the job and instance of OTLP', async () => {
    const names = ruleMetricNames();
    // The fault metrics (retries, carrier rejections, spool drops) are among them.
    expect(names.map(({ name }) => name)).toEqual(
      expect.arrayContaining([
        'task_retries_total',
        'task_carrier_rejected_total',
        'tasklens_spool_spans_dropped_total',
      ]),
    );
    await eventually('every metric the rules read scraped', async () => {
      const missing: string[] = [];
      for (const { name, usedIn } of names) {
        const found = await series(`${name}{job="${JOB}",instance="${PULL_INSTANCE}"}`);
        if (found.length === 0) missing.push(`${name} (read by ${usedIn.join(', ')})`);
      }
      if (missing.length > 0) throw new Error(`not in Prometheus: ${missing.join('; ')}`);
      return true;
    });
  });

  it('evaluates the shipped rules on it without errors', async () => {
    const recorded = recordedNames();
    const rules = await eventually('every rule evaluated', async () => {
      const response = await fetch(`${PROMETHEUS_URL}/api/v1/rules`);
      const body = (await response.json()) as {
        data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
      };
      const all = body.data.groups.flatMap((group) => group.rules);
      return all.every((rule) => rule.health !== 'unknown') ? all : undefined;
    });
    expect(rules.filter((rule) => rule.health !== 'ok')).toEqual([]);
    expect(rules.map((rule) => rule.name)).toEqual(expect.arrayContaining([...recorded]));
  });

  it('stores the same series for the pulled workload as for those pushing OTLP and remote write', async () => {
    const ruleNames = ruleMetricNames().map(({ name }) => name);
    const compared = await eventually('the workloads’ series complete and equal', async () => {
      const [pulled, pushed, written] = [
        await seriesOf(PULL_INSTANCE),
        await seriesOf(OTLP_INSTANCE),
        await seriesOf(REMOTE_WRITE_INSTANCE),
      ];
      const complete = ruleNames.every((name) => pulled.some((one) => one.startsWith(`${name}{`)));
      if (
        !complete ||
        pulled.join('\n') !== pushed.join('\n') ||
        pulled.join('\n') !== written.join('\n')
      ) {
        throw new Error(
          `pulled:\n${pulled.join('\n')}\npushed:\n${pushed.join('\n')}\nremote write:\n${written.join('\n')}`,
        );
      }
      return pulled;
    });
    expect(compared).toContain(
      'tasklens_spool_spans_dropped_total{job="shop/pull-path-workload",reason="unwritable"}',
    );
    expect(compared.filter((one) => one.startsWith('target_info{'))).toHaveLength(1);
  });
});
