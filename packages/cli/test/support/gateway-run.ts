/*
 * A run of BullMQ tasks through the gateway stack (`startStack({ gateway })`): one producer
 * process and worker processes on Redis, the attempts they report, and what Jaeger and Prometheus
 * hold afterwards, trace by trace.
 */
import { fileURLToPath } from 'node:url';

import type { RunningStack } from '@tasklens/stack';
import { eventually, startNodeProcess } from '@tasklens/test-utils';
import type { NodeProcess } from '@tasklens/test-utils';
import { getJson, promQuery } from './backend-queries.js';

const PRODUCER = fileURLToPath(new URL('../fixtures/gateway-producer.mjs', import.meta.url));
const WORKER = fileURLToPath(new URL('../fixtures/gateway-worker.mjs', import.meta.url));

/** What a job is made to do (gateway-producer.mjs). */
export type Behaviour = 'ok' | 'fail-always' | 'fail-once' | 'slow';

/** One settled attempt, as a worker printed it. */
export interface SettledAttempt {
  index: number;
  behaviour: Behaviour;
  outcome: 'completed' | 'failed';
  traceId: string;
}

/** One task: its trace and its attempts. */
export interface TaskRecord {
  index: number;
  behaviour: Behaviour;
  traceId: string;
  attempts: number;
}

/** Settings of one run. */
export interface TaskRunOptions {
  queue: string;
  /** service.name of the producer and of the workers (each gets a suffix). */
  service: string;
  count: number;
  rate: number;
  workers: number;
  /** Every `slowEvery`-th job works `slowMs` first; 0 for none. */
  slowEvery: number;
  slowMs: number;
  /** Called once, `afterMs` after the producer started. */
  midRun?: { afterMs: number; action: () => Promise<void> };
}

/** A finished run: every task with its attempts, in index order. */
export interface TaskRun {
  tasks: TaskRecord[];
  attempts: number;
  failedAttempts: number;
}

/** Attempts a job of `behaviour` makes: failing jobs have two (attempts: 2), others one. */
export function attemptsOf(behaviour: Behaviour): number {
  return behaviour === 'fail-always' || behaviour === 'fail-once' ? 2 : 1;
}

function failedAttemptsOf(behaviour: Behaviour): number {
  return behaviour === 'fail-always' ? 2 : behaviour === 'fail-once' ? 1 : 0;
}

/**
 * Runs the producer and the workers against `stack`, waits until the workers reported every
 * expected attempt, stops them (they flush their telemetry) and returns what they did.
 */
export async function runTasks(stack: RunningStack, options: TaskRunOptions): Promise<TaskRun> {
  const settled: SettledAttempt[] = [];
  const common = { QUEUE: options.queue, SLOW_MS: String(options.slowMs) };
  const workers: NodeProcess[] = [];
  for (let index = 0; index < options.workers; index++) {
    workers.push(
      startNodeProcess(
        [WORKER],
        stack.endpoints.otlpHttp,
        { ...common, SERVICE: `${options.service}-worker` },
        (line) => {
          if (line.startsWith('{')) settled.push(JSON.parse(line) as SettledAttempt);
        },
      ),
    );
  }
  const producer = startNodeProcess([PRODUCER], stack.endpoints.otlpHttp, {
    ...common,
    SERVICE: `${options.service}-producer`,
    COUNT: String(options.count),
    RATE: String(options.rate),
    SLOW_EVERY: String(options.slowEvery),
  });
  try {
    const midRun = options.midRun;
    const action =
      midRun === undefined
        ? Promise.resolve()
        : new Promise((resolve) => setTimeout(resolve, midRun.afterMs)).then(midRun.action);
    expect0(await producer.exited, 'the producer');
    await action;
    const tasks = new Map<number, TaskRecord>();
    let expected = 0;
    await eventually(
      `the workers settle every attempt of ${options.count} tasks`,
      () => {
        tasks.clear();
        for (const attempt of settled) {
          const task = tasks.get(attempt.index);
          if (task === undefined) {
            tasks.set(attempt.index, { ...attempt, attempts: 1 });
          } else {
            task.attempts++;
          }
        }
        expected = 0;
        for (const task of tasks.values()) expected += attemptsOf(task.behaviour);
        return Promise.resolve(
          tasks.size === options.count && settled.length === expected ? true : undefined,
        );
      },
      120_000,
    );
    const sorted = [...tasks.values()].sort((a, b) => a.index - b.index);
    return {
      tasks: sorted,
      attempts: settled.length,
      failedAttempts: sorted.reduce((sum, task) => sum + failedAttemptsOf(task.behaviour), 0),
    };
  } finally {
    for (const worker of workers) worker.child.kill('SIGTERM');
    await Promise.all(workers.map((worker) => worker.exited));
    producer.child.kill('SIGTERM');
  }
}

function expect0(code: number | null, what: string): void {
  if (code !== 0) throw new Error(`${what} exited ${String(code)}`);
}

/** Sum of task_duration_seconds_count for `queue` (every attempt, by outcome when given). */
export async function countedAttempts(
  prometheusUrl: string,
  queue: string,
  outcome?: string,
): Promise<number> {
  const outcomeMatcher = outcome === undefined ? '' : `,task_outcome="${outcome}"`;
  const samples = await promQuery(
    prometheusUrl,
    `sum(task_duration_seconds_count{task_queue="${queue}"${outcomeMatcher}})`,
  );
  return samples.length === 0 ? 0 : Number(samples[0]?.value[1]);
}

interface JaegerSpan {
  spanID: string;
  operationName: string;
  processID: string;
  tags: { key: string; value: unknown }[];
}

interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: { key: string; value: unknown }[] }>;
}

/** What Jaeger holds of one trace. */
export interface StoredTrace {
  traceId: string;
  /** Span count, duplicates included. */
  spans: number;
  /** Distinct span ids. */
  distinctSpans: number;
  producerSpans: number;
  attemptSpans: number;
  /** The tasklens.gateway resource attribute of its spans: which gateways it went through. */
  gateways: string[];
}

function storedTrace(trace: JaegerTrace): StoredTrace {
  const gateways = new Set<string>();
  let producerSpans = 0;
  let attemptSpans = 0;
  for (const span of trace.spans) {
    const gateway = trace.processes[span.processID]?.tags.find(
      (tag) => tag.key === 'tasklens.gateway',
    );
    gateways.add(gateway === undefined ? '(none)' : String(gateway.value));
    const kind = span.tags.find((tag) => tag.key === 'span.kind')?.value;
    if (kind === 'producer') producerSpans++;
    if (kind === 'consumer') attemptSpans++;
  }
  return {
    traceId: trace.traceID,
    spans: trace.spans.length,
    distinctSpans: new Set(trace.spans.map((span) => span.spanID)).size,
    producerSpans,
    attemptSpans,
    gateways: [...gateways].sort(),
  };
}

/** The traces Jaeger holds with a span of `service` in the last hour (at most `limit`). */
export async function searchTraces(
  jaegerUrl: string,
  service: string,
  limit: number,
): Promise<StoredTrace[]> {
  const url = new URL('/api/traces', jaegerUrl);
  url.searchParams.set('service', service);
  url.searchParams.set('lookback', '1h');
  url.searchParams.set('limit', String(limit));
  const body = (await getJson(url)) as { data: JaegerTrace[] };
  return body.data.map(storedTrace);
}

/** One trace by id; undefined when Jaeger does not have it. */
export async function getTrace(
  jaegerUrl: string,
  traceId: string,
): Promise<StoredTrace | undefined> {
  const response = await fetch(`${jaegerUrl}/api/traces/${traceId}`);
  if (response.status === 404) {
    await response.body?.cancel();
    return undefined;
  }
  if (!response.ok) throw new Error(`Jaeger: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { data: JaegerTrace[] };
  const trace = body.data[0];
  return trace === undefined ? undefined : storedTrace(trace);
}

/** A trace is complete when Jaeger has its producer span and one span per attempt, each once. */
export function isComplete(task: TaskRecord, stored: StoredTrace | undefined): boolean {
  return (
    stored !== undefined &&
    stored.spans === stored.distinctSpans &&
    stored.producerSpans === 1 &&
    stored.attemptSpans === task.attempts
  );
}
