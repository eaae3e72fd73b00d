import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { stackPortsFrom } from '../src/components.js';
import { stackStatus, startStack, stopStack } from '../src/stack.js';
import type { RunningStack, StackComponentState } from '../src/types.js';
import { eventually } from '@tasklens/test-utils';

// Below the ephemeral port range, apart from the other test files' stacks.
const PORTS = stackPortsFrom(21000);

const SERVICE_NAME = 'tasklens-stack-test';
const INSTANCE_ID = `instance-${randomBytes(4).toString('hex')}`;
const TASK_NAME = `stack-test-${randomBytes(4).toString('hex')}`;

function isAlive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () =>
      server.close(() => resolve(true)),
    );
  });
}

function nowNanos(): string {
  return (BigInt(Date.now()) * 1_000_000n).toString();
}

const resource = {
  attributes: [
    { key: 'service.name', value: { stringValue: SERVICE_NAME } },
    { key: 'service.instance.id', value: { stringValue: INSTANCE_ID } },
  ],
};

describe('native stack (real collector, Prometheus and Jaeger)', () => {
  let stateDir: string;
  let stack: RunningStack | undefined;
  let started: StackComponentState[] = [];

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'tasklens-stack-'));
    stack = await startStack({ stateDir, ports: PORTS });
    started = stack.components;
  }, 120_000);

  afterAll(async () => {
    await stopStack(stateDir);
    await rm(stateDir, { recursive: true, force: true });
  }, 60_000);

  it('starts the four components and reports them ready', async () => {
    expect(started.map((component) => component.name)).toEqual([
      'alertmanager',
      'prometheus',
      'jaeger',
      'collector',
    ]);
    const status = await stackStatus(stateDir);
    expect(status.recorded).toBe(true);
    expect(
      status.components.map((component) => [component.name, component.running, component.ready]),
    ).toEqual([
      ['alertmanager', true, true],
      ['prometheus', true, true],
      ['jaeger', true, true],
      ['collector', true, true],
    ]);
  });

  it('has Prometheus send its alerts to the stack Alertmanager', async () => {
    const active = await eventually('Prometheus discovering Alertmanager', async () => {
      const body = (await (
        await fetch(`${stack!.endpoints.prometheus}/api/v1/alertmanagers`)
      ).json()) as { data: { activeAlertmanagers: { url: string }[] } };
      return body.data.activeAlertmanagers.length > 0 ? body.data.activeAlertmanagers : undefined;
    });
    expect(active.map((entry) => entry.url)).toEqual([
      `${stack!.endpoints.alertmanager}/api/v2/alerts`,
    ]);
    const status = (await (
      await fetch(`${stack!.endpoints.alertmanager}/api/v2/status`)
    ).json()) as { cluster: { status: string; peers?: unknown[] } };
    expect(status.cluster.status).toBe('disabled');
  });

  it('refuses a second start from the same state directory', async () => {
    await expect(startStack({ stateDir, ports: PORTS })).rejects.toThrow(/still running/);
  });

  it('carries an OTLP/HTTP trace to Jaeger', async () => {
    const traceId = randomBytes(16).toString('hex');
    const spanId = randomBytes(8).toString('hex');
    const end = nowNanos();
    const body = {
      resourceSpans: [
        {
          resource,
          scopeSpans: [
            {
              scope: { name: 'tasklens-stack-test' },
              spans: [
                {
                  traceId,
                  spanId,
                  name: 'process stack-test-queue',
                  kind: 5,
                  startTimeUnixNano: (BigInt(end) - 5_000_000n).toString(),
                  endTimeUnixNano: end,
                  attributes: [{ key: 'task.name', value: { stringValue: TASK_NAME } }],
                  status: { code: 1 },
                },
              ],
            },
          ],
        },
      ],
    };
    const response = await fetch(`${stack!.endpoints.otlpHttp}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);

    const trace = await eventually(`trace ${traceId} in Jaeger`, async () => {
      const found = await fetch(`${stack!.endpoints.jaegerQuery}/api/traces/${traceId}`);
      if (found.status !== 200) {
        await found.body?.cancel();
        return undefined;
      }
      return (await found.json()) as {
        data: { traceID: string; spans: { spanID: string; operationName: string }[] }[];
      };
    });
    expect(trace.data).toHaveLength(1);
    expect(trace.data[0].traceID).toBe(traceId);
    expect(trace.data[0].spans.map((span) => [span.spanID, span.operationName])).toEqual([
      [spanId, 'process stack-test-queue'],
    ]);
  });

  it('carries an OTLP/HTTP histogram to Prometheus under its translated name, with its start time and exemplar', async () => {
    const time = nowNanos();
    const startTime = BigInt(time) - 60_000_000_000n;
    const traceId = randomBytes(16).toString('hex');
    const spanId = randomBytes(8).toString('hex');
    const body = {
      resourceMetrics: [
        {
          resource,
          scopeMetrics: [
            {
              scope: { name: 'tasklens-stack-test' },
              metrics: [
                {
                  name: 'task.duration',
                  unit: 's',
                  histogram: {
                    aggregationTemporality: 2,
                    dataPoints: [
                      {
                        attributes: [{ key: 'task.name', value: { stringValue: TASK_NAME } }],
                        startTimeUnixNano: startTime.toString(),
                        timeUnixNano: time,
                        count: '3',
                        sum: 1.5,
                        bucketCounts: ['1', '2', '0'],
                        explicitBounds: [0.1, 1],
                        exemplars: [{ timeUnixNano: time, asDouble: 0.7, traceId, spanId }],
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    const response = await fetch(`${stack!.endpoints.otlpHttp}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);

    const query = `task_duration_seconds_count{task_name="${TASK_NAME}"}`;
    const series = await eventually(`${query} in Prometheus`, async () => {
      const url = `${stack!.endpoints.prometheus}/api/v1/query?query=${encodeURIComponent(query)}`;
      const result = (await (await fetch(url)).json()) as {
        data: { result: { metric: Record<string, string>; value: [number, string] }[] };
      };
      return result.data.result.length > 0 ? result.data.result : undefined;
    });
    expect(series).toHaveLength(1);
    expect(series[0].metric).toMatchObject({
      __name__: 'task_duration_seconds_count',
      task_name: TASK_NAME,
      job: SERVICE_NAME,
      instance: INSTANCE_ID,
    });
    expect(series[0].value[1]).toBe('3');

    const bucketQuery = `task_duration_seconds_bucket{task_name="${TASK_NAME}"}`;
    const buckets = (await (
      await fetch(
        `${stack!.endpoints.prometheus}/api/v1/query?query=${encodeURIComponent(bucketQuery)}`,
      )
    ).json()) as { data: { result: { metric: { le: string }; value: [number, string] }[] } };
    expect(
      Object.fromEntries(buckets.data.result.map((entry) => [entry.metric.le, entry.value[1]])),
    ).toEqual({ '0.1': '1', '1': '3', '+Inf': '3' });

    // created-timestamp-zero-ingestion: a zero sample at the point's start time.
    const seconds = (nanos: bigint): number => Number(nanos / 1_000_000n) / 1000;
    const samples = (await (
      await fetch(
        `${stack!.endpoints.prometheus}/api/v1/query?query=${encodeURIComponent(`${query}[2m]`)}`,
      )
    ).json()) as { data: { result: { values: [number, string][] }[] } };
    expect(samples.data.result[0]?.values).toEqual([
      [seconds(startTime), '0'],
      [seconds(BigInt(time)), '3'],
    ]);

    // exemplar-storage: the exemplar is kept on the bucket its value falls in.
    const exemplarsUrl = new URL('/api/v1/query_exemplars', stack!.endpoints.prometheus);
    exemplarsUrl.searchParams.set('query', bucketQuery);
    exemplarsUrl.searchParams.set('start', String(seconds(startTime)));
    exemplarsUrl.searchParams.set('end', String(seconds(BigInt(time)) + 1));
    const exemplars = (await (await fetch(exemplarsUrl)).json()) as {
      data: {
        seriesLabels: Record<string, string>;
        exemplars: { labels: Record<string, string>; value: string }[];
      }[];
    };
    expect(exemplars.data).toHaveLength(1);
    expect(exemplars.data[0]?.seriesLabels.le).toBe('1');
    expect(exemplars.data[0]?.exemplars).toEqual([
      expect.objectContaining({ labels: { trace_id: traceId, span_id: spanId }, value: '0.7' }),
    ]);
  });

  it('stops every process it started and frees the ports', async () => {
    const result = await stopStack(stateDir);
    expect(result.components.map((component) => component.name)).toEqual([
      'alertmanager',
      'prometheus',
      'jaeger',
      'collector',
    ]);
    for (const component of result.components) {
      expect(component.outcome).not.toBe('not-running');
    }
    for (const component of started) {
      expect(isAlive(component.pid), `${component.name} pid ${component.pid}`).toBe(false);
    }
    for (const port of Object.values(PORTS) as number[]) {
      expect(await canListen(port), `port ${port}`).toBe(true);
    }
    expect((await stackStatus(stateDir)).recorded).toBe(false);
    expect((await stopStack(stateDir)).components).toEqual([]);
  });
});
