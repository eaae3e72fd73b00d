/*
 * Every query an operator sees, against the real Prometheus after demo traffic: the demo's own
 * producer and worker (demo/producer.js, demo/worker.js: quick, slow, retried and failing tasks
 * on BullMQ) export to a native stack, then each PromQL expression of the Grafana dashboard and
 * of the task queries (`tasklens stats` and the console) must return at least one series, and the
 * rows, charts and failure counts they make must hold the demo's numbers. Prometheus evaluates the recording rules
 * every second here (test-only startStack option), so they follow the traffic within seconds.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  REDIS_HOST,
  REDIS_PORT,
  dashboardQueries,
  eventually,
  requireRedis,
  startNodeProcess,
} from '@tasklens/test-utils';
import type { NodeProcess } from '@tasklens/test-utils';
import {
  collectFailureCounts,
  collectTaskRows,
  collectTaskSeries,
  failureCountQueries,
  taskRowQueries,
  taskSeriesQueries,
} from '../src/task-queries/collect.js';
import { PrometheusClient } from '../src/prometheus-client.js';
import { startStack } from '@tasklens/stack';
import type { RunningStack } from '@tasklens/stack';
import { testStackPorts } from './support/test-ports.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
/** How long the queries may take to return series once the demo's producer is done. */
const QUERIES_LIMIT_MS = 90_000;
/** The stats window: 15 minutes, as `tasklens stats --since 15m` passes it. */
const STATS_WINDOW = 900;
/** A demo task that is retried and then succeeds, so every stats column has a value for it. */
const STATS_TASK = 'send-email';
/** send-email as the demo worker runs it: 8 jobs, each failing twice before it succeeds. */
const SEND_EMAIL = {
  service: 'demo-worker',
  task: STATS_TASK,
  queue: 'demo-jobs',
  system: 'bullmq',
};

// Below the ephemeral port range, apart from the other test files' stacks.
const PORTS = testStackPorts(21400);

/** One query to check, named for the failure message. */
interface NamedQuery {
  name: string;
  expr: string;
}

let stack: RunningStack;
let stateDir: string;

function startDemoProcess(script: string): NodeProcess {
  return startNodeProcess([join(REPO, 'demo', script)], stack.endpoints.otlpHttp, {
    REDIS_HOST,
    REDIS_PORT: String(REDIS_PORT),
  });
}

/** Number of series `expr` returns now; throws with Prometheus's error when it rejects it. */
async function seriesCount(expr: string): Promise<number> {
  const url = new URL('/api/v1/query', stack.endpoints.prometheus);
  url.searchParams.set('query', expr);
  const response = await fetch(url);
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data?: { result: unknown[] };
  };
  if (body.status !== 'success') {
    throw new Error(`Prometheus rejected ${expr}: ${body.error ?? response.status}`);
  }
  return body.data?.result.length ?? 0;
}

/** The queries that still return no series, polled until none is left or the limit passes. */
async function emptyQueries(queries: NamedQuery[], limitMs: number): Promise<string[]> {
  const deadline = Date.now() + limitMs;
  let empty = queries;
  for (;;) {
    const counts = await Promise.all(empty.map((query) => seriesCount(query.expr)));
    empty = empty.filter((_query, index) => counts[index] === 0);
    if (empty.length === 0 || Date.now() > deadline) {
      return empty.map((query) => `${query.name}: ${query.expr}`);
    }
    await sleep(1_000);
  }
}

const dashboard: unknown = JSON.parse(
  readFileSync(join(REPO, 'deploy', 'grafana', 'dashboards', 'tasklens.json'), 'utf8'),
);

const QUERIES: NamedQuery[] = [
  ...dashboardQueries(dashboard).map((query) => ({
    name: `dashboard panel ${query.panelId} "${query.panelTitle}" target ${query.refId}`,
    expr: query.expr,
  })),
  ...Object.entries(taskRowQueries(STATS_WINDOW)).map(([column, expr]) => ({
    name: `tasklens stats column ${column}`,
    expr,
  })),
  ...Object.entries(taskRowQueries(STATS_WINDOW, { task: STATS_TASK })).map(([column, expr]) => ({
    name: `tasklens stats --task ${STATS_TASK} column ${column}`,
    expr,
  })),
  ...Object.entries(failureCountQueries(STATS_WINDOW, 60, { task: STATS_TASK })).map(
    ([name, expr]) => ({ name: `console failure counts ${name}`, expr }),
  ),
  ...Object.entries(taskSeriesQueries(60, SEND_EMAIL))
    // In the last minute, a point of the failure chart may have no failed attempt in it.
    .filter(([name]) => name !== 'p95WaitSeconds')
    .map(([name, expr]) => ({ name: `console chart ${name} (instant)`, expr })),
];

beforeAll(async () => {
  await requireRedis();
  stateDir = await mkdtemp(join(tmpdir(), 'tasklens-queries-e2e-'));
  stack = await startStack({ stateDir, ports: PORTS, evaluationInterval: '1s' });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

describe('dashboard and tasklens stats queries on demo traffic', () => {
  it('has queries to check from the dashboard and from stats', () => {
    expect(QUERIES.filter((query) => query.name.startsWith('dashboard')).length).toBeGreaterThan(5);
    expect(QUERIES.filter((query) => query.name.startsWith('tasklens stats')).length).toBe(18);
  });

  it('returns at least one series for every query', async () => {
    const worker = startDemoProcess('worker.js');
    const producer = startDemoProcess('producer.js');
    expect(await producer.exited).toBe(0);
    const producedAt = Date.now();

    const empty = await emptyQueries(QUERIES, QUERIES_LIMIT_MS);
    const settledMs = Date.now() - producedAt;
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(empty, 'queries that returned no series').toEqual([]);
    console.log(
      `all ${QUERIES.length} dashboard and stats queries returned series ${settledMs} ms after ` +
        `the demo producer finished (measured ${new Date().toISOString()})`,
    );

    // The demo's numbers, as stats and the console read them, once the worker's last export (at
    // its exit) has gone through the collector's queue to Prometheus.
    const client = new PrometheusClient(stack.endpoints.prometheus);
    let at = new Date();
    let rows: Awaited<ReturnType<typeof collectTaskRows>> = [];
    await eventually(
      'the worker’s last export in Prometheus',
      async () => {
        at = new Date();
        rows = await collectTaskRows(client, STATS_WINDOW, { task: STATS_TASK }, at);
        return rows[0]?.runs === 24 && rows[0]?.inFlight === 0 ? true : undefined;
      },
      30_000,
    ).catch(() => undefined);
    expect(rows).toMatchObject([{ ...SEND_EMAIL, runs: 24, inFlight: 0 }]);
    expect(rows[0].failurePercent).toBeCloseTo((100 * 16) / 24, 6);
    expect(rows[0].ratePerSecond).toBeCloseTo(24 / STATS_WINDOW, 9);
    for (const column of ['p50DurationSeconds', 'p95DurationSeconds', 'p95WaitSeconds'] as const) {
      expect(rows[0][column], column).toBeGreaterThan(0);
    }
    expect(rows[0].lastSuccessAgeSeconds).toBeGreaterThanOrEqual(0);

    const failures = await collectFailureCounts(client, STATS_WINDOW, {}, at.getTime());
    expect(
      failures.map(({ task, outcome, errorType, count }) => ({ task, outcome, errorType, count })),
    ).toEqual([
      { task: STATS_TASK, outcome: 'failure', errorType: 'MailServerBusyError', count: 16 },
      { task: 'charge-card', outcome: 'failure', errorType: 'PaymentDeclinedError', count: 6 },
    ]);
    for (const failure of failures) {
      expect(failure.firstSeen).not.toBeNull();
      expect(failure.firstSeen ?? 0).toBeLessThanOrEqual(failure.lastSeen ?? 0);
      expect(failure.lastSeen ?? 0).toBeLessThanOrEqual(at.getTime());
      expect(failure.firstSeen ?? 0).toBeGreaterThan(producedAt - 120_000);
    }

    // The chart's points tile its range: their growth adds up to the runs of the same range.
    const charts = await collectTaskSeries(
      client,
      STATS_WINDOW,
      SEND_EMAIL,
      at.getTime() + 120_000,
    );
    const last = charts.timestamps[charts.timestamps.length - 1];
    const charted = charts.runsPerSecond.reduce<number>(
      (sum, value) => sum + (value ?? 0) * charts.stepSeconds,
      0,
    );
    const [sameRange] = await collectTaskRows(
      client,
      charts.timestamps.length * charts.stepSeconds,
      SEND_EMAIL,
      new Date(last * 1000),
    );
    expect(charted).toBeCloseTo(sameRange?.runs ?? -1, 6);
    expect(charted).toBeCloseTo(24, 6);
    expect(charts.p95DurationSeconds.some((value) => value !== null && value > 0)).toBe(true);
  }, 180_000);
});
