/*
 * `tasklens failures --group-by error|task` on the native stack: 1000 failed attempts of three
 * kinds (500, 300 and 200) in one service print three rows with exact counts, from Prometheus,
 * each with an example trace from Jaeger; by task, one row of 1000 with its three error types.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack } from '@tasklens/stack';
import type { RunningStack } from '@tasklens/stack';
import { eventually, startNodeProcess } from '@tasklens/test-utils';
import type { FailureRollup } from '../src/failure-rollup.js';
import { runCli } from './support/cli-process.js';
import { sumOf } from './support/task-workload.js';
import { testStackPorts } from './support/test-ports.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const SUFFIX = randomBytes(4).toString('hex');
const SERVICE = `grouped-${SUFFIX}`;
const TASK = `import-${SUFFIX}`;
const KINDS = { DiskFullError: 500, CardDeclinedError: 300, TypeError: 200 };

let stack: RunningStack;
let stateDir: string;

async function failures(args: string[]): Promise<string> {
  const run = await runCli(['failures', '--state-dir', stateDir, '--since', '15m', ...args]);
  expect(run.code, run.stderr).toBe(0);
  return run.stdout;
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'tasklens-group-by-'));
  stack = await startStack({ stateDir, ports: testStackPorts(23500) });
  const workload = startNodeProcess(
    [join(FIXTURES, 'failing-tasks.mjs')],
    stack.endpoints.otlpHttp,
    {
      SERVICE,
      TASK,
      FAILURES: Object.entries(KINDS)
        .map(([name, count]) => `${name}=${count}`)
        .join(','),
    },
  );
  expect(await workload.exited).toBe(0);
  await eventually('the 1000 failures in Prometheus', async () =>
    (await sumOf(
      stack.endpoints.prometheus,
      `sum(task_duration_seconds_count{job="${SERVICE}", task_outcome="failure"})`,
    )) === 1000
      ? true
      : undefined,
  );
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
});

describe('tasklens failures --group-by', () => {
  it('error: three rows with exact counts and an example trace each', async () => {
    // Prometheus has every count (beforeAll); Jaeger indexes the spans on its own time.
    const rows = await eventually('an example with its message for every error type', async () => {
      const found = JSON.parse(
        await failures(['--group-by', 'error', '--service', SERVICE, '--json']),
      ) as FailureRollup[];
      return found.every((row) => row.exampleMessage !== null) ? found : undefined;
    }).catch(
      async () =>
        JSON.parse(
          await failures(['--group-by', 'error', '--service', SERVICE, '--json']),
        ) as FailureRollup[],
    );
    expect(rows.map((row) => [row.errorType, row.count])).toEqual(Object.entries(KINDS));
    for (const row of rows) {
      expect(row.spread).toEqual([`${SERVICE}/${TASK}`]);
      expect(row.exampleTraceId).toMatch(/^[0-9a-f]{32}$/);
      expect(row.exampleMessage).toMatch(new RegExp(`^${row.errorType ?? ''} number \\d+$`));
    }

    const table = (await failures(['--group-by', 'error', '--service', SERVICE])).split('\n');
    expect(table[0]).toMatch(/^COUNT\s+ERROR\s+TASKS\s+FIRST SEEN\s+LAST SEEN\s+EXAMPLE$/);
    const counts = table
      .filter((line) => /^\d/.test(line))
      .map((line) => line.split(/\s+/).slice(0, 2));
    expect(counts).toEqual(Object.entries(KINDS).map(([name, count]) => [String(count), name]));
  });

  it('task: one row of all 1000 with its three error types', async () => {
    const rows = JSON.parse(
      await failures(['--group-by', 'task', '--service', SERVICE, '--json']),
    ) as FailureRollup[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ service: SERVICE, task: TASK, count: 1000 });
    expect(rows[0]?.spread).toEqual(Object.keys(KINDS));
  });

  it('refuses a grouping it does not know', async () => {
    const run = await runCli(['failures', '--group-by', 'queue']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--group-by must be error or task');
    const alone = await runCli(['failures', '--prometheus-url', 'http://127.0.0.1:9']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--prometheus-url applies to --group-by only');
  });
});
