/*
 * 100 one-shot `tasklens run` processes of a scheduled task, on the real binaries: each process is
 * a series of its own (its own `instance`) with a single point, and the recording rules and the
 * dashboard's rate panels must still count every run. Prometheus 3 adds a zero sample at each
 * series' start time (the OTLP point's start time) and the rules use anchored range selectors;
 * without either, a run counts as nothing (a lone sample has no rate) or as about 1.5 runs (an
 * extrapolating rate over the zero and the point).
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardQueries, eventually, MATCH_ALL_VARIABLES } from '@tasklens/test-utils';
import { startStack } from '@tasklens/stack';
import type { RunningStack } from '@tasklens/stack';
import { promQuery } from './support/backend-queries.js';
import { runCli } from './support/cli-process.js';
import { testStackPorts } from './support/test-ports.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const PORTS = testStackPorts(22000);
const SERVICE = `cron-${process.pid}`;
const TASK = 'report';
const RUNS = 100;
/** Every tenth run fails. */
const FAILED_RUNS = RUNS / 10;
/** Runs started at once: the processes mostly wait on their exports. */
const BATCH = 20;
/** The 5-minute rates, in seconds: a rate times this is the number of runs in the window. */
const RATE_WINDOW_SECONDS = 300;

let stack: RunningStack;
let stateDir: string;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'tasklens-one-shot-'));
  stack = await startStack({ stateDir, ports: PORTS, evaluationInterval: '1s' });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

/** Sum of what `expr` returns now; undefined while it returns nothing. */
async function sumOf(expr: string): Promise<number | undefined> {
  const result = await promQuery(stack.endpoints.prometheus, expr);
  if (result.length === 0) return undefined;
  return result.reduce((sum, sample) => sum + Number(sample.value[1]), 0);
}

/** The expr of the dashboard panel titled `title`, its variables matching this test's job. */
function panelQuery(title: string): string {
  const dashboard: unknown = JSON.parse(
    readFileSync(join(REPO, 'deploy/grafana/dashboards/tasklens.json'), 'utf8'),
  );
  const queries = dashboardQueries(dashboard, {
    ...MATCH_ALL_VARIABLES,
    job: SERVICE,
    task_name: TASK,
  }).filter((query) => query.panelTitle === title);
  expect(queries, `the dashboard's "${title}" panel`).toHaveLength(1);
  return queries[0]?.expr ?? '';
}

describe('one-shot tasklens run processes', () => {
  it(`are all counted by the recording rules and the dashboard: ${RUNS} runs`, async () => {
    for (let first = 0; first < RUNS; first += BATCH) {
      const batch = Array.from({ length: BATCH }, (_unused, offset) => {
        const fails = (first + offset) % (RUNS / FAILED_RUNS) === 0;
        return runCli(
          ['run', '--task', TASK, '--service', SERVICE, '--', 'sh', '-c', fails ? 'exit 1' : ''],
          { OTEL_EXPORTER_OTLP_ENDPOINT: stack.endpoints.otlpHttp },
        );
      });
      const codes = (await Promise.all(batch)).map((run) => run.code);
      expect(codes.filter((code) => code !== 0)).toHaveLength(BATCH / (RUNS / FAILED_RUNS));
    }

    // Every run arrived: one series per process, each with its own single point.
    await eventually(
      `${RUNS} series of ${SERVICE} in Prometheus`,
      async () => {
        const series = await sumOf(`count(task_duration_seconds_count{job="${SERVICE}"})`);
        return series === RUNS ? series : undefined;
      },
      60_000,
    );
    // Rules run every second; give them two evaluations over the complete data.
    await sleep(2_500);

    const perWindow = async (expr: string): Promise<number | undefined> => {
      const value = await sumOf(expr);
      return value === undefined ? undefined : value * RATE_WINDOW_SECONDS;
    };
    const rule = (name: string): string => `${name}{job="${SERVICE}", task_name="${TASK}"}`;
    expect(await perWindow(rule('task:task_attempts:rate5m'))).toBeCloseTo(RUNS, 6);
    expect(await perWindow(rule('task:task_failures:rate5m'))).toBeCloseTo(FAILED_RUNS, 6);
    expect(await sumOf(rule('task:task_failure_ratio:rate5m'))).toBeCloseTo(FAILED_RUNS / RUNS, 6);
    expect(await perWindow(panelQuery('Finished attempts per second'))).toBeCloseTo(RUNS, 6);
    expect(await perWindow(panelQuery('Failures per second by error type'))).toBeCloseTo(
      FAILED_RUNS,
      6,
    );
  });
});
