/*
 * The backends keep what they acknowledged, on the real binaries: Jaeger, Prometheus and the
 * collector are each killed with SIGKILL (no chance to flush) and started again from the stack's
 * state (restartStackComponent), and every span and metric point that got an OTLP success answer
 * must then be found, counted exactly. Telemetry is sent as OTLP/HTTP JSON by the test itself, so
 * the test knows precisely what was acknowledged.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { restartStackComponent, stackStatus, startStack, stopStack } from '@tasklens/stack';
import type { RunningStack, StackComponentName } from '@tasklens/stack';
import { listFailures } from './support/backend-queries.js';
import { testStackPorts } from './support/test-ports.js';
import { eventually } from '@tasklens/test-utils';

// Below the ephemeral port range, apart from the other test files' stacks. The second set is for
// the same state directory started again after `stack down`.
const PORTS = testStackPorts(21500);
const PORTS_AFTER_DOWN = testStackPorts(21600);

const RUN = randomBytes(4).toString('hex');
const SERVICE = `durability-${RUN}`;
const QUEUE = `durability-queue-${RUN}`;

let stack: RunningStack;
let stateDir: string;

// --- OTLP/HTTP JSON ---------------------------------------------------------------------------

interface SentSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  failed?: boolean;
}

const resource = {
  attributes: [{ key: 'service.name', value: { stringValue: SERVICE } }],
};

function otlpSpan(span: SentSpan, endMs: number): Record<string, unknown> {
  const end = BigInt(endMs) * 1_000_000n;
  const attributes: { key: string; value: Record<string, string> }[] = [
    { key: 'task.name', value: { stringValue: 'durable-task' } },
    { key: 'messaging.destination.name', value: { stringValue: QUEUE } },
  ];
  if (span.failed === true) {
    attributes.push(
      { key: 'task.outcome', value: { stringValue: 'failure' } },
      { key: 'error.type', value: { stringValue: 'DiskFullError' } },
      { key: 'task.attempt', value: { intValue: '1' } },
    );
  }
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    ...(span.parentSpanId === undefined ? {} : { parentSpanId: span.parentSpanId }),
    name: span.name,
    kind: span.parentSpanId === undefined ? 4 : 5,
    startTimeUnixNano: (end - 2_000_000n).toString(),
    endTimeUnixNano: end.toString(),
    attributes,
    status: span.failed === true ? { code: 2, message: 'no space left on device' } : { code: 1 },
  };
}

/** A trace of `size` spans: a producer span and its consumer children. */
function newTrace(size: number, failed = false): SentSpan[] {
  const traceId = randomBytes(16).toString('hex');
  const root = randomBytes(8).toString('hex');
  const spans: SentSpan[] = [{ traceId, spanId: root, name: `send ${QUEUE}` }];
  for (let index = 1; index < size; index++) {
    spans.push({
      traceId,
      spanId: randomBytes(8).toString('hex'),
      parentSpanId: root,
      name: `process ${QUEUE}`,
      failed: failed && index === 1,
    });
  }
  return spans;
}

/** POSTs one OTLP/HTTP JSON request; true when the collector acknowledged all of it. */
async function postOtlp(path: '/v1/traces' | '/v1/metrics', body: unknown): Promise<boolean> {
  try {
    const response = await fetch(`${stack.endpoints.otlpHttp}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (response.status !== 200) return false;
    // A partial success names rejected items: not acknowledged.
    const answer = (text === '' ? {} : JSON.parse(text)) as {
      partialSuccess?: { rejectedSpans?: string; rejectedDataPoints?: string };
    };
    return (
      Number(answer.partialSuccess?.rejectedSpans ?? 0) === 0 &&
      Number(answer.partialSuccess?.rejectedDataPoints ?? 0) === 0
    );
  } catch {
    return false;
  }
}

function sendSpans(spans: SentSpan[]): Promise<boolean> {
  const endMs = Date.now();
  return postOtlp('/v1/traces', {
    resourceSpans: [
      {
        resource,
        scopeSpans: [
          { scope: { name: 'durability-test' }, spans: spans.map((s) => otlpSpan(s, endMs)) },
        ],
      },
    ],
  });
}

/** One point of a cumulative counter: `value` at `timeMs`. */
interface SentPoint {
  timeMs: number;
  value: number;
}

const METRIC_START_MS = Date.now() - 60_000;

function sendPoint(series: string, point: SentPoint): Promise<boolean> {
  return postOtlp('/v1/metrics', {
    resourceMetrics: [
      {
        resource,
        scopeMetrics: [
          {
            scope: { name: 'durability-test' },
            metrics: [
              {
                name: 'durability.probe',
                sum: {
                  aggregationTemporality: 2,
                  isMonotonic: true,
                  dataPoints: [
                    {
                      attributes: [{ key: 'series', value: { stringValue: series } }],
                      startTimeUnixNano: (BigInt(METRIC_START_MS) * 1_000_000n).toString(),
                      timeUnixNano: (BigInt(point.timeMs) * 1_000_000n).toString(),
                      asInt: String(point.value),
                    },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  });
}

/** Sends points 1, 2, 3, ... of one series, each at its own millisecond; keeps the acknowledged. */
class PointSender {
  readonly acknowledged: SentPoint[] = [];
  refused = 0;
  private value = 0;
  private lastMs = 0;

  constructor(readonly series: string) {}

  async send(): Promise<void> {
    const timeMs = Math.max(Date.now(), this.lastMs + 1);
    this.lastMs = timeMs;
    const point = { timeMs, value: ++this.value };
    if (await sendPoint(this.series, point)) this.acknowledged.push(point);
    else this.refused++;
  }
}

// --- Queries ----------------------------------------------------------------------------------

interface JaegerTrace {
  traceID: string;
  spans: { spanID: string }[];
}

/** Span ids Jaeger returns for `traceId`, sorted; empty when it does not know the trace. */
async function storedSpanIds(traceId: string): Promise<string[]> {
  const response = await fetch(`${stack.endpoints.jaegerQuery}/api/traces/${traceId}`);
  if (response.status === 404) {
    await response.body?.cancel();
    return [];
  }
  if (!response.ok) throw new Error(`Jaeger: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { data: JaegerTrace[] };
  return body.data.flatMap((trace) => trace.spans.map((span) => span.spanID)).sort();
}

function spanIdsByTrace(spans: SentSpan[]): Map<string, string[]> {
  const byTrace = new Map<string, string[]>();
  for (const span of spans)
    byTrace.set(span.traceId, [...(byTrace.get(span.traceId) ?? []), span.spanId]);
  for (const ids of byTrace.values()) ids.sort();
  return byTrace;
}

/** Waits until Jaeger holds exactly the sent spans of every trace (no missing or extra span). */
async function expectAllSpansStored(spans: SentSpan[], what: string): Promise<void> {
  const expected = spanIdsByTrace(spans);
  let wrong: string[] = [];
  let missingSpans = 0;
  await eventually(
    what,
    async () => {
      wrong = [];
      missingSpans = 0;
      for (const [traceId, ids] of expected) {
        const stored = await storedSpanIds(traceId);
        if (JSON.stringify(stored) !== JSON.stringify(ids)) {
          wrong.push(`${traceId}: stored ${stored.length} of ${ids.length}`);
          missingSpans += ids.filter((id) => !stored.includes(id)).length;
        }
      }
      return wrong.length === 0 ? true : undefined;
    },
    30_000,
  ).catch((error: unknown) => {
    throw new Error(
      `${String(error)}; ${missingSpans} of ${spans.length} spans missing; ${wrong.join(', ')}`,
    );
  });
}

/** Every raw sample Prometheus holds for one series: [seconds, value] pairs, oldest first. */
async function storedSamples(series: string): Promise<[number, string][]> {
  const url = new URL('/api/v1/query', stack.endpoints.prometheus);
  url.searchParams.set('query', `durability_probe_total{job="${SERVICE}",series="${series}"}[10m]`);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`Prometheus: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { data: { result: { values: [number, string][] }[] } };
  return body.data.result.flatMap((result) => result.values);
}

/**
 * "No sample lost": the series holds exactly the acknowledged points, each at its own timestamp
 * with its value, oldest first, and nothing else (no gap, no extra, no changed value) but the zero
 * sample Prometheus adds at the points' start time (created-timestamp zero ingestion).
 */
async function expectAllPointsStored(points: SentPoint[], series: string): Promise<void> {
  const expected: [number, string][] = [
    [METRIC_START_MS / 1000, '0'],
    ...points.map((point): [number, string] => [point.timeMs / 1000, String(point.value)]),
  ];
  let stored: [number, string][] = [];
  await eventually(
    `all ${points.length} acknowledged points of ${series} in Prometheus`,
    async () => {
      stored = await storedSamples(series);
      return stored.length >= expected.length ? true : undefined;
    },
    30_000,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}; stored ${stored.length} of ${expected.length}`);
  });
  expect(stored).toEqual(expected);
}

// --- The stack's processes --------------------------------------------------------------------

async function componentStatus(
  name: StackComponentName,
): Promise<{ pid: number; running: boolean }> {
  const status = await stackStatus(stateDir);
  const component = status.components.find((candidate) => candidate.name === name);
  if (component === undefined) throw new Error(`no ${name} recorded in ${stateDir}`);
  return component;
}

/**
 * SIGKILLs the stack's running `name` (the recorded process) as soon as `moment` resolves, and
 * waits until it is gone.
 */
async function killComponent(
  name: StackComponentName,
  moment: () => Promise<void> = () => Promise.resolve(),
): Promise<void> {
  const { pid, running } = await componentStatus(name);
  if (!running) throw new Error(`${name} is not running in ${stateDir}`);
  await moment();
  process.kill(pid, 'SIGKILL');
  await eventually(`${name} (pid ${pid}) gone`, async () =>
    (await componentStatus(name)).running ? undefined : true,
  );
}

/** Spans Jaeger's OTLP/gRPC receiver accepted so far (from the collector), from its own metrics. */
async function jaegerAcceptedSpans(): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${stack.ports.jaegerTelemetry}/metrics`);
  const line = (await response.text())
    .split('\n')
    .find(
      (candidate) =>
        candidate.startsWith('otelcol_receiver_accepted_spans_total{') &&
        candidate.includes('transport="grpc"'),
    );
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/**
 * Resolves right after Jaeger accepted one more export from the collector, so that a kill lands
 * while whatever Jaeger buffers after answering would still be in memory.
 */
async function jaegerJustAccepted(): Promise<void> {
  const before = await jaegerAcceptedSpans();
  const deadline = Date.now() + 30_000;
  while ((await jaegerAcceptedSpans()) === before) {
    if (Date.now() > deadline) throw new Error('Jaeger accepted no export from the collector');
    await sleep(5);
  }
}

/** Runs `send` back to back until `stop()` is called; resolves when the last send is done. */
function keepSending(send: () => Promise<void>): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      await send();
      await sleep(50);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'tasklens-durability-'));
  stack = await startStack({ stateDir, ports: PORTS });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

describe('backends keep what they acknowledged (SIGKILL and restart)', () => {
  it('Jaeger killed and restarted still has every stored trace; tasklens failures lists the failure', async () => {
    const traces = [newTrace(3, true), ...Array.from({ length: 9 }, () => newTrace(3))];
    const spans = traces.flat();
    for (const trace of traces) expect(await sendSpans(trace)).toBe(true);
    await expectAllSpansStored(spans, 'the 10 traces in Jaeger before the kill');

    await killComponent('jaeger');
    await restartStackComponent(stateDir, 'jaeger');

    await expectAllSpansStored(spans, 'the 10 traces in Jaeger after the restart');
    const failures = await listFailures([
      '--jaeger-url',
      stack.endpoints.jaegerQuery,
      '--service',
      SERVICE,
      '--since',
      '15m',
    ]);
    expect(failures.map((failure) => [failure.traceId, failure.errorType, failure.queue])).toEqual([
      [traces[0][0].traceId, 'DiskFullError', QUEUE],
    ]);
  });

  it('Jaeger killed while spans keep coming: every acknowledged span arrives once it is back', async () => {
    const acknowledged: SentSpan[] = [];
    let refused = 0;
    const sender = keepSending(async () => {
      const trace = newTrace(5);
      if (await sendSpans(trace)) acknowledged.push(...trace);
      else refused++;
    });
    await sleep(1_500);
    await killComponent('jaeger', jaegerJustAccepted);
    await sleep(4_000);
    await restartStackComponent(stateDir, 'jaeger');
    await sleep(1_000);
    await sender.stop();

    expect(refused).toBe(0);
    expect(acknowledged.length).toBeGreaterThan(0);
    await expectAllSpansStored(
      acknowledged,
      `all ${acknowledged.length} acknowledged spans in Jaeger`,
    );
    console.log(
      `Jaeger down ~4 s under load: ${acknowledged.length} spans acknowledged, all stored (measured ${new Date().toISOString()})`,
    );
  });

  it('Prometheus killed while points keep coming: the series has every acknowledged point', async () => {
    const sender = new PointSender(`prometheus-kill-${RUN}`);
    const loop = keepSending(() => sender.send());
    await sleep(1_500);
    await killComponent('prometheus');
    await sleep(4_000);
    await restartStackComponent(stateDir, 'prometheus');
    await sleep(1_000);
    await loop.stop();

    expect(sender.refused).toBe(0);
    await expectAllPointsStored(sender.acknowledged, sender.series);
    console.log(
      `Prometheus down ~4 s under load: ${sender.acknowledged.length} points acknowledged, all stored (measured ${new Date().toISOString()})`,
    );
  });

  it('collector killed right after acknowledging: the spans and points arrive after its restart', async () => {
    const traces = Array.from({ length: 20 }, () => newTrace(3));
    const sender = new PointSender(`collector-kill-${RUN}`);
    for (const trace of traces) expect(await sendSpans(trace)).toBe(true);
    for (let index = 0; index < 10; index++) await sender.send();
    expect(sender.refused).toBe(0);
    await killComponent('collector');
    await restartStackComponent(stateDir, 'collector');

    await expectAllSpansStored(traces.flat(), 'the 60 acknowledged spans in Jaeger');
    await expectAllPointsStored(sender.acknowledged, sender.series);
  });

  it('stack down and up with the same state directory keeps the traces and the samples', async () => {
    const trace = newTrace(2);
    const sender = new PointSender(`down-up-${RUN}`);
    expect(await sendSpans(trace)).toBe(true);
    await sender.send();
    await expectAllSpansStored(trace, 'the trace before stack down');
    await expectAllPointsStored(sender.acknowledged, sender.series);

    await stopStack(stateDir);
    stack = await startStack({ stateDir, ports: PORTS_AFTER_DOWN });

    await expectAllSpansStored(trace, 'the trace after stack up');
    await expectAllPointsStored(sender.acknowledged, sender.series);
  });
});
