/*
 * The metrics store on the real binaries (`tasklens stack up --metrics-store`): `tasklens run`
 * processes → collector (OTLP, file-backed queue) → Thanos Receive router → two ingesters with
 * replication factor 2 → Thanos Query, with Thanos Rule evaluating the stack's rules (rewritten
 * without `anchored`, see packages/stack/src/store-rules.ts) and sending alerts to Alertmanager.
 *
 * One ingester is killed with SIGKILL while runs are still being sent: every run is still counted
 * exactly through the query API (the other replica has every sample, including those written while
 * the killed one was down), TaskRunFailed still fires through Alertmanager, and `tasklens stats
 * --prometheus-url` on the store's query API counts every run. After the killed ingester restarts
 * (its write-ahead log replayed), the two copies merge without counting anything twice.
 *
 * Test-only settings, as in alerts-end-to-end: rules evaluate every second, Alertmanager groups
 * with 1s delays, and the per-task expected interval that makes the task a scheduled one (the
 * condition of TaskRunFailed) comes from an extra rules file.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordedStackEndpoints, restartStackComponent, startStack } from '@tasklens/stack';
import type { RunningStack } from '@tasklens/stack';
import { eventually } from '@tasklens/test-utils';
import { getJson, promQuery } from './support/backend-queries.js';
import type { PromSample } from './support/backend-queries.js';
import { runCli } from './support/cli-process.js';
import type { CliRun } from './support/cli-process.js';
import { startAlertWebhook } from './support/alert-webhook.js';
import type { AlertWebhook } from './support/alert-webhook.js';
import { testStackPorts } from './support/test-ports.js';

const SUFFIX = randomBytes(4).toString('hex');
const SERVICE = `store-cron-${SUFFIX}`;
const TASK = `store-export-${SUFFIX}`;
/** Runs in all, in batches; the ingester is killed once KILL_AFTER_BATCHES have been sent. */
const RUNS = 60;
const BATCH = 10;
const KILL_AFTER_BATCHES = 2;
/** Every fifth run fails. */
const FAILED_RUNS = RUNS / 5;
/** How long an alert may take to reach the webhook. */
const ALERT_LIMIT_MS = 90_000;

// 22600 to 22633: the stack's thirty-four ports.
const PORTS = testStackPorts(22600);

let stack: RunningStack;
let stateDir: string;
let webhook: AlertWebhook;

function storeQuery(): string {
  const url = stack.endpoints.storeQuery;
  if (url === undefined) throw new Error('the stack reports no metrics store query endpoint');
  return url;
}

/** Sum of what `expr` returns on the store's query API now; undefined while it returns nothing. */
async function storeSum(expr: string): Promise<number | undefined> {
  const result = await promQuery(storeQuery(), expr);
  if (result.length === 0) return undefined;
  return result.reduce((sum, sample) => sum + Number(sample.value[1]), 0);
}

/** Series of this test's runs on each replica (`receive_replica`), without deduplication. */
async function perReplica(): Promise<Record<string, number>> {
  const url = new URL('/api/v1/query', storeQuery());
  url.searchParams.set('query', `count by (receive_replica) (${ALL})`);
  url.searchParams.set('dedup', 'false');
  const body = (await getJson(url)) as { data: { result: PromSample[] } };
  return Object.fromEntries(
    body.data.result.map((sample) => [sample.metric.receive_replica, Number(sample.value[1])]),
  );
}

function run(index: number): Promise<CliRun> {
  const fails = index % (RUNS / FAILED_RUNS) === 0;
  return runCli(
    ['run', '--task', TASK, '--service', SERVICE, '--', 'sh', '-c', fails ? 'exit 1' : ''],
    { OTEL_EXPORTER_OTLP_ENDPOINT: stack.endpoints.otlpHttp },
  );
}

const ALL = `task_duration_seconds_count{job="${SERVICE}"}`;
const FAILED = `task_duration_seconds_count{job="${SERVICE}",task_outcome="failure"}`;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'tasklens-metrics-store-'));
  const thresholds = join(stateDir, 'test-thresholds.yml');
  await writeFile(
    thresholds,
    [
      'groups:',
      '  - name: metrics-store-end-to-end-thresholds',
      '    rules:',
      '      - record: tasklens:expected_interval_seconds:threshold',
      '        expr: vector(86400)',
      '        labels:',
      `          task_name: ${TASK}`,
      '',
    ].join('\n'),
  );
  stack = await startStack({
    stateDir,
    ports: PORTS,
    metricsStore: true,
    alertWebhookUrl: (webhook = await startAlertWebhook()).url,
    alertGroupWait: '1s',
    alertGroupInterval: '1s',
    evaluationInterval: '1s',
    extraRuleFiles: [thresholds],
    readyTimeoutMs: 120_000,
  });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await webhook?.close();
  await rm(stateDir, { recursive: true, force: true });
});

describe('metrics store with replication factor 2', () => {
  it(`counts all ${RUNS} runs and fires TaskRunFailed with one ingester killed mid-stream`, async () => {
    const ingester = stack.components.find((component) => component.name === 'store-ingester-0');
    expect(ingester, 'store-ingester-0 in the stack').toBeDefined();
    const codes: (number | null)[] = [];
    for (let first = 0; first < RUNS; first += BATCH) {
      if (first === KILL_AFTER_BATCHES * BATCH) {
        // Both replicas hold the runs so far; then one is killed as the next batch starts.
        const beforeKill = await eventually(
          `the first ${first} runs on both replicas`,
          async () => {
            const counts = await perReplica();
            return counts['0'] === first && counts['1'] === first ? counts : undefined;
          },
          30_000,
        );
        expect(beforeKill).toEqual({ '0': first, '1': first });
        const batch = Array.from({ length: BATCH }, (_unused, offset) => run(first + offset));
        process.kill(ingester?.pid ?? 0, 'SIGKILL');
        codes.push(...(await Promise.all(batch)).map((result) => result.code));
        continue;
      }
      const batch = Array.from({ length: BATCH }, (_unused, offset) => run(first + offset));
      codes.push(...(await Promise.all(batch)).map((result) => result.code));
    }
    expect(codes.filter((code) => code !== 0)).toHaveLength(FAILED_RUNS);

    // Every run is a series of one point; all of them are on the surviving ingester.
    const series = await eventually(
      `${RUNS} series of ${SERVICE} in the store`,
      async () => {
        const count = await storeSum(`count(${ALL})`);
        return count === RUNS ? count : undefined;
      },
      60_000,
    );
    expect(series).toBe(RUNS);
    expect(await storeSum(`sum(${ALL})`)).toBe(RUNS);
    expect(await storeSum(`sum(${FAILED})`)).toBe(FAILED_RUNS);
    const killed = await promQuery(
      `http://127.0.0.1:${PORTS.storeIngester0Http}`,
      'vector(1)',
    ).catch((error: unknown) => error);
    expect(killed, 'the killed ingester stays down').toBeInstanceOf(Error);

    // The rule evaluated on the store: its expected-interval threshold, then the alert.
    const { alert: firing } = await webhook.awaitAlert(
      `TaskRunFailed for ${TASK}`,
      { alertname: 'TaskRunFailed', task_name: TASK },
      ALERT_LIMIT_MS,
    );
    expect(firing.labels.job).toBe(SERVICE);

    // tasklens stats on the store's query API.
    const stats = await runCli([
      'stats',
      '--prometheus-url',
      storeQuery(),
      '--task',
      TASK,
      '--since',
      '15m',
      '--json',
    ]);
    expect(stats.code, stats.stderr).toBe(0);
    const rows = JSON.parse(stats.stdout) as {
      task: string;
      runs: number;
      failurePercent: number;
    }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]?.runs).toBe(RUNS);
    expect(rows[0]?.failurePercent).toBeCloseTo((100 * FAILED_RUNS) / RUNS, 6);
    // `--state-dir` finds the same query API: a stack with the store is queried there.
    expect(recordedStackEndpoints(stateDir)).toEqual(stack.endpoints);
    const viaStateDir = await runCli([
      'stats',
      '--state-dir',
      stateDir,
      '--task',
      TASK,
      '--since',
      '15m',
      '--json',
    ]);
    expect(viaStateDir.code, viaStateDir.stderr).toBe(0);
    expect(
      (JSON.parse(viaStateDir.stdout) as { task: string; runs: number }[]).map((row) => [
        row.task,
        row.runs,
      ]),
    ).toEqual([[TASK, RUNS]]);

    // The killed ingester comes back with what it had (its write-ahead log); the runs written
    // while it was down are on the other replica only. The merged view counts nothing twice.
    await restartStackComponent(stateDir, 'store-ingester-0', { readyTimeoutMs: 120_000 });
    const afterRestart = await eventually(
      'both replicas answering after the restart',
      async () => {
        const counts = await perReplica();
        return Object.keys(counts).length === 2 ? counts : undefined;
      },
      60_000,
    );
    expect(afterRestart).toEqual({ '0': KILL_AFTER_BATCHES * BATCH, '1': RUNS });
    expect(await storeSum(`count(${ALL})`)).toBe(RUNS);
    expect(await storeSum(`sum(${ALL})`)).toBe(RUNS);
    console.log(
      `metrics store: ${RUNS} runs (${FAILED_RUNS} failed) sent, ingester 0 killed after ` +
        `${KILL_AFTER_BATCHES * BATCH}; counted ${RUNS}; per replica after the restart: ` +
        JSON.stringify(afterRestart),
    );
  }, 300_000);
});
