/*
 * `tasklens run` of a cron job while the collector refuses connections, on the real binaries:
 * the run keeps its exit code, its span and its metrics wait in the spool, and the next run of
 * the same service, with the collector answering, delivers them to Jaeger and Prometheus.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, eventually } from '@tasklens/test-utils';
import { startStack } from '@tasklens/stack';
import type { RunningStack } from '@tasklens/stack';
import { getJson, listFailures, promQuery } from './support/backend-queries.js';
import { newSpoolDir, runCli } from './support/cli-process.js';
import { testStackPorts } from './support/test-ports.js';

const PORTS = testStackPorts(21900);
const SERVICE = `nightly-${process.pid}`;

let stack: RunningStack;
let stateDir: string;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'tasklens-run-down-'));
  stack = await startStack({ stateDir, ports: PORTS });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

async function attemptsInPrometheus(): Promise<number | undefined> {
  const [sum] = await promQuery(
    stack.endpoints.prometheus,
    `sum(task_duration_seconds_count{job="${SERVICE}"})`,
  );
  return sum === undefined ? undefined : Number(sum.value[1]);
}

function summary(stderr: string): { traceId: string; outcome: string; exitCode: number } {
  const line = stderr.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as { traceId: string; outcome: string; exitCode: number };
}

describe('tasklens run while the collector is down', () => {
  it('keeps the run in the spool; the next run delivers it to Jaeger and Prometheus', async () => {
    const spoolDir = newSpoolDir();
    const run = (endpoint: string, script: string) =>
      runCli(
        ['run', '--task', 'backup', '--service', SERVICE, '--json', '--', 'sh', '-c', script],
        {
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          OTEL_METRIC_EXPORT_INTERVAL: '1000',
          TASKLENS_SPOOL_DIR: spoolDir,
        },
      );

    const down = await run(`http://127.0.0.1:${await closedPort()}`, 'exit 3');
    expect(down.code).toBe(3);
    expect(summary(down.stderr)).toMatchObject({ outcome: 'failure', exitCode: 3 });
    expect((await readdir(join(spoolDir, SERVICE))).length).toBeGreaterThan(0);

    const up = await run(stack.endpoints.otlpHttp, 'exit 0');
    expect(up).toMatchObject({ code: 0 });
    expect(up.stderr.trim().split('\n')).toHaveLength(1);
    expect(await readdir(join(spoolDir, SERVICE))).toEqual([]);

    const { traceId } = summary(down.stderr);
    const trace = await eventually('the spooled run in Jaeger', async () => {
      const body = (await getJson(`${stack.endpoints.jaegerQuery}/api/traces/${traceId}`)) as {
        data: { spans: { operationName: string; tags: { key: string; value: unknown }[] }[] }[];
      };
      return body.data[0];
    });
    expect(trace.spans.map((span) => span.operationName)).toEqual(['backup']);
    expect(trace.spans[0]?.tags).toContainEqual({
      key: 'task.outcome',
      type: 'string',
      value: 'failure',
    });

    // Both runs counted: the failed one from its spooled last metric export.
    expect(
      await eventually('both runs in Prometheus', async () => {
        const attempts = await attemptsInPrometheus();
        return attempts === 2 ? attempts : undefined;
      }),
    ).toBe(2);

    const failures = await listFailures([
      '--jaeger-url',
      stack.endpoints.jaegerQuery,
      '--service',
      SERVICE,
      '--since',
      '15m',
    ]);
    expect(failures.map((failure) => failure.traceId)).toEqual([traceId]);
  });
});
