/*
 * Every query an operator sees, against the real Prometheus after demo traffic: the demo's own
 * producer and worker (demo/producer.js, demo/worker.js: quick, slow, retried and failing tasks
 * on BullMQ) export to a native stack, then each PromQL expression of the Grafana dashboard and
 * of `tasklens stats` must return at least one series. Prometheus evaluates the recording rules
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
  requireRedis,
  startNodeProcess,
} from '@tasklens/test-utils';
import type { NodeProcess } from '@tasklens/test-utils';
import { statsQueries } from '../src/commands/stats.js';
import { startStack } from '@tasklens/stack';
import type { RunningStack } from '@tasklens/stack';
import { testStackPorts } from './support/test-ports.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
/** How long the queries may take to return series once the demo's producer is done. */
const QUERIES_LIMIT_MS = 90_000;
/** The stats window: 15 minutes, as `tasklens stats --since 15m` passes it. */
const STATS_WINDOW = '900s';
/** A demo task that is retried and then succeeds, so every stats column has a value for it. */
const STATS_TASK = 'send-email';

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
  ...Object.entries(statsQueries(STATS_WINDOW, undefined)).map(([column, expr]) => ({
    name: `tasklens stats column ${column}`,
    expr,
  })),
  ...Object.entries(statsQueries(STATS_WINDOW, STATS_TASK)).map(([column, expr]) => ({
    name: `tasklens stats --task ${STATS_TASK} column ${column}`,
    expr,
  })),
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
    expect(QUERIES.filter((query) => query.name.startsWith('tasklens stats')).length).toBe(14);
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
  }, 180_000);
});
