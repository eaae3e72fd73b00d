/*
 * Task metrics by Prometheus remote write 1.0 (deploy/collector/remote-write.yaml) into three real
 * receivers: Prometheus's remote-write receiver (`tasklens stack up --metrics-via remote-write`),
 * Thanos Receive's router (`--metrics-store --metrics-via remote-write`) and VictoriaMetrics
 * single-node, fed by the collector binary with the same two config files. Through each: 100
 * one-shot `tasklens run` processes (every tenth failing) and a BullMQ worker's attempts, counted
 * exactly; on Prometheus also by the recording rules (a one-shot run's series has a single real
 * point: the SDK's zero point at its start makes it count) and with exemplars that lead to the
 * trace. Then, on Prometheus, under a steady 20 tasks/s: the collector killed with SIGKILL, and
 * Prometheus killed and kept down for 60 s; every attempt is counted afterwards.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectedBinaryPaths,
  expectedVictoriaMetricsPath,
  restartStackComponent,
  startStack,
} from '@tasklens/stack';
import type { RunningStack, StackComponentName } from '@tasklens/stack';
import { eventually, requireRedis } from '@tasklens/test-utils';
import { getJson, promExemplars } from './support/backend-queries.js';
import { runCli } from './support/cli-process.js';
import {
  countsReach,
  oneShotRuns,
  OUTCOME_LABEL,
  produceJobs,
  QUEUE_LABEL,
  queueAttempts,
  runOneShots,
  settledAll,
  startWorker,
  sumOf,
  workloadNames,
} from './support/task-workload.js';
import { testStackPorts } from './support/test-ports.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const RUNS = 100;
const FAILED_RUNS = 10;
const JOBS = 100;
/** The 5-minute rates, in seconds: a rate times this is the number of runs in the window. */
const RATE_WINDOW_SECONDS = 300;

/** Every attempt of the one-shot runs and the worker arrives at the backend at `url`. */
async function sendAndCount(
  otlpHttp: string,
  url: string,
  names: ReturnType<typeof workloadNames>,
): Promise<void> {
  await requireRedis();
  const worker = startWorker(otlpHttp, names.queue);
  try {
    await Promise.all([
      runOneShots(otlpHttp, names, RUNS),
      produceJobs(otlpHttp, names.queue, JOBS, 50),
    ]);
    await settledAll(worker, JOBS);
  } finally {
    await worker.stop();
  }
  expect(worker.failed()).toBe(JOBS / 10);
  await countsReach(url, queueAttempts(names.queue), {
    success: worker.completed(),
    failure: worker.failed(),
  });
  await countsReach(url, oneShotRuns(names), {
    success: RUNS - FAILED_RUNS,
    failure: FAILED_RUNS,
  });
}

/** `tasklens stats` on the query API at `url`: the one-shot task's runs and failure share. */
async function expectStats(url: string, task: string): Promise<void> {
  const stats = await runCli([
    'stats',
    '--prometheus-url',
    url,
    '--task',
    task,
    '--since',
    '15m',
    '--json',
  ]);
  expect(stats.code, stats.stderr).toBe(0);
  const rows = JSON.parse(stats.stdout) as { runs: number; failurePercent: number }[];
  expect(rows).toHaveLength(1);
  expect(rows[0]?.runs).toBe(RUNS);
  expect(rows[0]?.failurePercent).toBeCloseTo((100 * FAILED_RUNS) / RUNS, 6);
}

describe('remote write to Prometheus (tasklens stack up --metrics-via remote-write)', () => {
  const names = workloadNames('rw-prom');
  let stack: RunningStack;
  let stateDir: string;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'tasklens-rw-prom-'));
    stack = await startStack({
      stateDir,
      ports: testStackPorts(23200),
      metricsVia: 'remote-write',
      evaluationInterval: '1s',
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
  });

  it('counts every run and attempt, in the rules too, with exemplars that lead to the trace', async () => {
    const status = await runCli(['stack', 'status', '--state-dir', stateDir]);
    expect(status.stdout).toContain('Task metrics go by remote write to Prometheus');
    const prometheus = stack.endpoints.prometheus;
    await sendAndCount(stack.endpoints.otlpHttp, prometheus, names);
    await expectStats(prometheus, names.task);

    // The recording rules count each one-shot run once (rules evaluate every second).
    await sleep(2_500);
    const rule = (name: string) => `${name}{job="${names.service}", task_name="${names.task}"}`;
    expect((await sumOf(prometheus, rule('task:task_attempts:rate5m'))) ?? 0).toBeCloseTo(
      RUNS / RATE_WINDOW_SECONDS,
      6,
    );
    expect((await sumOf(prometheus, rule('task:task_failures:rate5m'))) ?? 0).toBeCloseTo(
      FAILED_RUNS / RATE_WINDOW_SECONDS,
      6,
    );

    // A failure bucket's exemplar is the trace of a failed attempt, which Jaeger holds.
    const exemplars = await eventually('exemplars on the worker’s failure buckets', async () => {
      const found = await promExemplars(
        prometheus,
        `task_duration_seconds_bucket{${QUEUE_LABEL}="${names.queue}", ${OUTCOME_LABEL}="failure"}`,
        900,
      );
      return found.length > 0 ? found : undefined;
    });
    const traceId = exemplars[0]?.labels.trace_id ?? '';
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const trace = await eventually('the exemplar’s trace in Jaeger', async () => {
      try {
        return (await getJson(`${stack.endpoints.jaegerQuery}/api/traces/${traceId}`)) as {
          data: { spans: { tags: { key: string; value: unknown }[] }[] }[];
        };
      } catch {
        return undefined;
      }
    });
    const tags = trace.data[0]?.spans.flatMap((span) => span.tags) ?? [];
    expect(tags).toContainEqual(expect.objectContaining({ key: 'task.outcome', value: 'failure' }));
  }, 180_000);

  it('loses no attempt when the collector is killed and Prometheus is down for 60 s', async () => {
    await requireRedis();
    const queue = `${names.queue}-faults`;
    const during = { service: `${names.service}-faults`, task: `${names.task}-faults` };
    const worker = startWorker(stack.endpoints.otlpHttp, queue);
    const kill = async (name: StackComponentName) => {
      const component = stack.components.find((candidate) => candidate.name === name);
      if (component === undefined) throw new Error(`no ${name} in the stack`);
      process.kill(component.pid, 'SIGKILL');
      await sleep(500);
    };
    // 20 tasks/s for 100 s. Prometheus is down from 10 s to 70 s; one-shot runs sent while it is
    // down wait in the collector's queue, which the collector killed at 30 s must still hold.
    const jobs = 20 * 100;
    try {
      const producing = produceJobs(stack.endpoints.otlpHttp, queue, jobs, 20);
      await sleep(10_000);
      await kill('prometheus');
      const prometheusDown = Date.now();
      await runOneShots(stack.endpoints.otlpHttp, during, 20);
      await sleep(Math.max(0, prometheusDown + 20_000 - Date.now()));
      await kill('collector');
      await restartStackComponent(stateDir, 'collector');
      await runOneShots(stack.endpoints.otlpHttp, during, 20);
      await sleep(Math.max(0, prometheusDown + 60_000 - Date.now()));
      await restartStackComponent(stateDir, 'prometheus');
      await producing;
      await settledAll(worker, jobs);
    } finally {
      await worker.stop();
    }
    const prometheus = stack.endpoints.prometheus;
    await countsReach(
      prometheus,
      queueAttempts(queue),
      { success: worker.completed(), failure: worker.failed() },
      180_000,
    );
    await countsReach(prometheus, oneShotRuns(during), { success: 36, failure: 4 }, 60_000);
  }, 480_000);
});

describe('remote write to Thanos Receive (tasklens stack up --metrics-store --metrics-via remote-write)', () => {
  const names = workloadNames('rw-thanos');
  let stack: RunningStack;
  let stateDir: string;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'tasklens-rw-thanos-'));
    stack = await startStack({
      stateDir,
      ports: testStackPorts(23300),
      metricsStore: true,
      metricsVia: 'remote-write',
    });
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
  });

  it('counts every run and attempt through the store’s query API', async () => {
    const status = await runCli(['stack', 'status', '--state-dir', stateDir]);
    expect(status.stdout).toContain('Task metrics go by remote write to the metrics store');
    const query = stack.endpoints.storeQuery ?? '';
    await sendAndCount(stack.endpoints.otlpHttp, query, names);
    await expectStats(query, names.task);
  }, 180_000);
});

describe('remote write to VictoriaMetrics (the collector pointed at REMOTE_WRITE_URL)', () => {
  const names = workloadNames('rw-vm');
  const ports = testStackPorts(23400);
  const vmPort = ports.prometheus;
  const processes: ChildProcess[] = [];
  let dataDir: string;

  function start(command: string, args: string[], env: Record<string, string> = {}): void {
    const child = spawn(command, args, {
      env: { PATH: process.env.PATH, ...env },
      stdio: 'ignore',
    });
    processes.push(child);
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tasklens-rw-vm-'));
    const victoriaMetrics = await expectedVictoriaMetricsPath(REPO);
    if (!existsSync(victoriaMetrics)) {
      throw new Error(
        `VictoriaMetrics is not built (${victoriaMetrics}): run bash scripts/setup.sh --test-backends`,
      );
    }
    start(victoriaMetrics, [
      `-httpListenAddr=127.0.0.1:${vmPort}`,
      `-storageDataPath=${join(dataDir, 'vm')}`,
      '-retentionPeriod=1d',
      // Fresh samples are searchable at once (default: 30 s later).
      '-search.latencyOffset=0s',
      '-search.disableCache',
    ]);
    const { collector } = await expectedBinaryPaths(REPO);
    start(
      collector,
      [
        '--config',
        join(REPO, 'otel-collector.yaml'),
        '--config',
        join(REPO, 'deploy/collector/remote-write.yaml'),
      ],
      {
        OTLP_GRPC_ENDPOINT: `127.0.0.1:${ports.otlpGrpc}`,
        OTLP_HTTP_ENDPOINT: `127.0.0.1:${ports.otlpHttp}`,
        COLLECTOR_HEALTH_ENDPOINT: `127.0.0.1:${ports.collectorHealth}`,
        COLLECTOR_TELEMETRY_PORT: String(ports.collectorTelemetry),
        COLLECTOR_FILE_STORAGE_DIR: join(dataDir, 'file_storage'),
        // No Jaeger here: spans wait in the collector's queue.
        JAEGER_OTLP_GRPC_ENDPOINT: `127.0.0.1:${ports.jaegerOtlpGrpc}`,
        REMOTE_WRITE_URL: `http://127.0.0.1:${vmPort}/api/v1/write`,
        REMOTE_WRITE_LOOP_ENDPOINT: `127.0.0.1:${ports.collectorRemoteWrite}`,
      },
    );
    await eventually(
      'VictoriaMetrics and the collector answering',
      async () => {
        try {
          await fetch(`http://127.0.0.1:${ports.collectorHealth}/`).then(
            (response) => response.ok || Promise.reject(new Error()),
          );
          await fetch(`http://127.0.0.1:${vmPort}/health`).then(
            (response) => response.ok || Promise.reject(new Error()),
          );
          return true;
        } catch {
          return undefined;
        }
      },
      60_000,
    );
  }, 120_000);

  afterAll(async () => {
    await Promise.all(
      processes.map((child) => {
        if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        return exited;
      }),
    );
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  it('counts every run and attempt, read back with MetricsQL and tasklens stats', async () => {
    const vm = `http://127.0.0.1:${vmPort}`;
    await sendAndCount(`http://127.0.0.1:${ports.otlpHttp}`, vm, names);
    await expectStats(vm, names.task);
    // The same names and labels as on Prometheus: job, instance and target_info from the resource.
    expect(await sumOf(vm, `count(target_info{job="${names.service}"})`)).toBe(RUNS);
  }, 180_000);
});
