/*
 * The collector bridge end to end on the real binaries: a BullMQ producer process and a worker
 * process export OTLP to the collector, which feeds Jaeger and Prometheus; the failing task is
 * then found the way users find it (Jaeger's API, PromQL, `tasklens failures`), and from the
 * failure metric's exemplars to the same trace.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack } from '@tasklens/stack';
import type { RunningStack } from '@tasklens/stack';
import { eventually, requireRedis, startNodeProcess } from '@tasklens/test-utils';
import type { NodeProcess } from '@tasklens/test-utils';
import {
  getJson,
  listFailures,
  promExemplars,
  promQuery as queryPrometheus,
} from './support/backend-queries.js';
import type { PromSample } from './support/backend-queries.js';
import { testStackPorts } from './support/test-ports.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const QUEUE = `e2e-${randomBytes(4).toString('hex')}`;
// Below the ephemeral port range, apart from the other test files' stacks.
const PORTS = testStackPorts(21200);

interface Settled {
  name: string;
  outcome: 'completed' | 'failed';
  endedAt: number;
}

let stack: RunningStack;
let stateDir: string;

function nodeProcess(script: string, onLine?: (line: string) => void): NodeProcess {
  return startNodeProcess([join(FIXTURES, script)], stack.endpoints.otlpHttp, { QUEUE }, onLine);
}

interface JaegerSpanJson {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; spanID: string }[];
  tags: { key: string; value: unknown }[];
  processID: string;
}
interface JaegerTraceJson {
  traceID: string;
  spans: JaegerSpanJson[];
  processes: Record<string, { serviceName: string }>;
}

const tag = (span: JaegerSpanJson, key: string): unknown =>
  span.tags.find((candidate) => candidate.key === key)?.value;

const promQuery = (expression: string): Promise<PromSample[]> =>
  queryPrometheus(stack.endpoints.prometheus, expression);

beforeAll(async () => {
  await requireRedis();
  stateDir = await mkdtemp(join(tmpdir(), 'tasklens-e2e-'));
  stack = await startStack({ stateDir, ports: PORTS });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

describe('producer → BullMQ → worker → collector → Jaeger and Prometheus', () => {
  it('finds the failing task as one ERROR trace, as metrics and with tasklens failures', async () => {
    const settled: Settled[] = [];
    const worker = nodeProcess('bridge-worker.mjs', (line) =>
      settled.push(JSON.parse(line) as Settled),
    );
    const producer = nodeProcess('bridge-producer.mjs');
    expect(await producer.exited).toBe(0);
    await eventually('the worker settling 3 attempts', () =>
      Promise.resolve(settled.length >= 3 ? true : undefined),
    );
    const failedAt = Math.max(
      ...settled
        .filter((attempt) => attempt.outcome === 'failed')
        .map((attempt) => attempt.endedAt),
    );

    // Traces: the producer's send span and both failed attempts in one trace, in Jaeger.
    const trace = await eventually('the failing trace in Jaeger', async () => {
      const url = new URL('/api/traces', stack.endpoints.jaegerQuery);
      url.searchParams.set('service', 'e2e-worker');
      url.searchParams.set(
        'tags',
        JSON.stringify({ 'task.name': 'charge-card', 'messaging.destination.name': QUEUE }),
      );
      url.searchParams.set('lookback', '1h');
      const body = (await getJson(url.toString())) as { data: JaegerTraceJson[] };
      const found = body.data.find(
        (candidate) =>
          candidate.spans.filter((span) => span.operationName === `process ${QUEUE}`).length ===
            2 && candidate.spans.some((span) => span.operationName === `send ${QUEUE}`),
      );
      return found;
    });
    const jaegerLatencyMs = Date.now() - failedAt;

    const send = trace.spans.find((span) => span.operationName === `send ${QUEUE}`);
    const attempts = trace.spans
      .filter((span) => span.operationName === `process ${QUEUE}`)
      .sort((a, b) => Number(tag(a, 'task.attempt')) - Number(tag(b, 'task.attempt')));
    expect(trace.processes[send?.processID ?? '']?.serviceName).toBe('e2e-producer');
    expect(tag(send!, 'span.kind')).toBe('producer');
    for (const [index, span] of attempts.entries()) {
      expect(trace.processes[span.processID]?.serviceName).toBe('e2e-worker');
      expect(span.references).toContainEqual(
        expect.objectContaining({ refType: 'CHILD_OF', spanID: send?.spanID }),
      );
      expect({
        kind: tag(span, 'span.kind'),
        status: tag(span, 'otel.status_code'),
        errorType: tag(span, 'error.type'),
        attempt: tag(span, 'task.attempt'),
        retrying: tag(span, 'task.retrying'),
      }).toEqual({
        kind: 'consumer',
        status: 'ERROR',
        errorType: 'PaymentDeclinedError',
        attempt: index + 1,
        retrying: index === 0 ? true : undefined,
      });
    }

    // Metrics: the failures by outcome, and every documented series name, in Prometheus.
    const failures = await eventually('task_duration_seconds_count for the failures', async () => {
      const result = await promQuery(
        `task_duration_seconds_count{task_queue="${QUEUE}",task_name="charge-card",task_outcome="failure"}`,
      );
      return result.length > 0 && result[0].value[1] === '2' ? result : undefined;
    });
    const prometheusLatencyMs = Date.now() - failedAt;
    expect(failures[0].metric).toMatchObject({
      job: 'e2e-worker',
      messaging_system: 'bullmq',
      error_type: 'PaymentDeclinedError',
    });
    const documented = [
      'task_duration_seconds_bucket',
      'task_duration_seconds_sum',
      'task_duration_seconds_count',
      'task_wait_duration_seconds_bucket',
      'task_wait_duration_seconds_sum',
      'task_wait_duration_seconds_count',
      'task_active',
      'task_retries_total',
      'task_last_success_seconds',
    ];
    const present = await eventually('every documented series', async () => {
      const names = (await getJson(
        `${stack.endpoints.prometheus}/api/v1/label/__name__/values`,
      )) as { data: string[] };
      return documented.every((name) => names.data.includes(name)) ? names.data : undefined;
    });
    expect(present).toEqual(expect.arrayContaining(documented));
    expect(await promQuery(`task_retries_total{task_queue="${QUEUE}"}`)).toMatchObject([
      { metric: { task_name: 'charge-card' }, value: [expect.any(Number), '1'] },
    ]);

    // The on-call view, as a user of `tasklens stack up --port-base N --state-dir D` gets it:
    // `--state-dir` finds the stack's Jaeger on its ports.
    const filters = ['--service', 'e2e-worker', '--task', 'charge-card', '--since', '15m'];
    const listed = (await listFailures(['--state-dir', stateDir, ...filters])).filter(
      (failure) => failure.queue === QUEUE,
    );
    expect(
      (await listFailures(['--jaeger-url', stack.endpoints.jaegerQuery, ...filters])).filter(
        (failure) => failure.queue === QUEUE,
      ),
    ).toEqual(listed);
    expect(listed.map((failure) => [failure.attempt, failure.errorType, failure.traceId])).toEqual([
      [2, 'PaymentDeclinedError', trace.traceID],
      [1, 'PaymentDeclinedError', trace.traceID],
    ]);
    expect(listed[0]).toMatchObject({
      service: 'e2e-worker',
      message: 'card declined by issuer',
      retrying: false,
    });

    // From the metric to the trace: the failure series' buckets carry exemplars of the failed
    // attempts, whose trace is the one tasklens failures lists and Jaeger holds.
    const exemplars = await eventually('an exemplar on the failure buckets', async () => {
      const found = await promExemplars(
        stack.endpoints.prometheus,
        `task_duration_seconds_bucket{task_queue="${QUEUE}",task_outcome="failure"}`,
        900,
      );
      return found.length > 0 ? found : undefined;
    });
    const attemptSpanIds = attempts.map((span) => span.spanID);
    for (const exemplar of exemplars) {
      expect(exemplar.labels.trace_id).toBe(trace.traceID);
      expect(attemptSpanIds).toContain(exemplar.labels.span_id);
      expect(exemplar.seriesLabels).toMatchObject({
        task_name: 'charge-card',
        error_type: 'PaymentDeclinedError',
      });
      expect(Number(exemplar.value)).toBeGreaterThanOrEqual(0);
    }
    expect(listed.map((failure) => failure.traceId)).toContain(exemplars[0].labels.trace_id);

    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    console.log(
      `end of the failed task → visible in Jaeger after ${jaegerLatencyMs} ms, in Prometheus after ${prometheusLatencyMs} ms (measured ${new Date().toISOString()})`,
    );
  }, 180_000);
});
