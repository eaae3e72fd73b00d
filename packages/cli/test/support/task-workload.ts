/*
 * The workload the metrics-path tests send through a collector: one-shot `tasklens run`
 * processes of a scheduled task (every tenth fails) and a BullMQ producer and worker at a steady
 * rate (every tenth job fails), each counted by the test as it ran.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ATTR_TASK_OUTCOME, ATTR_TASK_QUEUE, prometheusLabel } from '@tasklens/core';
import { eventually, startNodeProcess } from '@tasklens/test-utils';
import type { NodeProcess } from '@tasklens/test-utils';
import { promQuery } from './backend-queries.js';
import { runCli } from './cli-process.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
/** Runs started at once: the processes mostly wait on their exports. */
const BATCH = 20;

export const QUEUE_LABEL = prometheusLabel(ATTR_TASK_QUEUE);
export const OUTCOME_LABEL = prometheusLabel(ATTR_TASK_OUTCOME);

/** Names unique to one test file's run. */
export function workloadNames(prefix: string): { service: string; task: string; queue: string } {
  const suffix = randomBytes(4).toString('hex');
  return {
    service: `${prefix}-cron-${suffix}`,
    task: `${prefix}-report-${suffix}`,
    queue: `${prefix}-queue-${suffix}`,
  };
}

/** `runs` one-shot `tasklens run` processes of `task`, every tenth failing; all must exit. */
export async function runOneShots(
  otlpHttp: string,
  names: { service: string; task: string },
  runs: number,
): Promise<void> {
  for (let first = 0; first < runs; first += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, runs - first) }, (_unused, offset) => {
      const fails = (first + offset) % 10 === 0;
      return runCli(
        [
          'run',
          '--task',
          names.task,
          '--service',
          names.service,
          '--',
          'sh',
          '-c',
          fails ? 'exit 1' : '',
        ],
        { OTEL_EXPORTER_OTLP_ENDPOINT: otlpHttp },
      );
    });
    const codes = (await Promise.all(batch)).map((run) => run.code);
    if (codes.filter((code) => code !== 0).length !== Math.ceil(codes.length / 10)) {
      throw new Error(`unexpected exit codes of tasklens run: ${codes.join(' ')}`);
    }
  }
}

/** A BullMQ worker on `queue` and the attempts it settled so far, by outcome. */
export interface WorkerRun {
  worker: NodeProcess;
  completed(): number;
  failed(): number;
  /** Stops the worker (SIGTERM: it flushes its telemetry) and waits for it. */
  stop(): Promise<void>;
}

export function startWorker(otlpHttp: string, queue: string): WorkerRun {
  const settled = { completed: 0, failed: 0 };
  const worker = startNodeProcess(
    [join(FIXTURES, 'bridge-worker.mjs')],
    otlpHttp,
    { QUEUE: queue },
    (line) => {
      const { outcome } = JSON.parse(line) as { outcome: 'completed' | 'failed' };
      settled[outcome] += 1;
    },
  );
  return {
    worker,
    completed: () => settled.completed,
    failed: () => settled.failed,
    async stop() {
      worker.child.kill('SIGTERM');
      await worker.exited;
    },
  };
}

/** Adds `jobs` jobs to `queue`, `rate` per second, every tenth failing; resolves when all are in. */
export async function produceJobs(
  otlpHttp: string,
  queue: string,
  jobs: number,
  rate: number,
): Promise<void> {
  const producer = startNodeProcess([join(FIXTURES, 'steady-producer.mjs')], otlpHttp, {
    QUEUE: queue,
    JOBS: String(jobs),
    RATE: String(rate),
  });
  const code = await producer.exited;
  if (code !== 0) throw new Error(`the producer exited with ${String(code)}`);
}

/** Resolves once the worker settled `jobs` attempts (one each: the jobs are not retried). */
export async function settledAll(run: WorkerRun, jobs: number, limitMs = 120_000): Promise<void> {
  await eventually(
    `the worker settling ${jobs} attempts`,
    () => Promise.resolve(run.completed() + run.failed() >= jobs ? true : undefined),
    limitMs,
  );
}

/** Sum of what `expr` returns on the query API at `url` now; undefined while it returns nothing. */
export async function sumOf(url: string, expr: string): Promise<number | undefined> {
  const result = await promQuery(url, expr);
  if (result.length === 0) return undefined;
  return result.reduce((sum, sample) => sum + Number(sample.value[1]), 0);
}

/** The selector of the attempts on `queue`, or of the one-shot runs of `names`' task. */
export function queueAttempts(queue: string): string {
  return `${QUEUE_LABEL}="${queue}"`;
}
export function oneShotRuns(names: { service: string; task: string }): string {
  return `job="${names.service}", task_name="${names.task}"`;
}

/**
 * The attempts `selector` picks that the backend at `url` holds, by outcome: the last count of
 * every series (each process reports its own), summed; resolves once they equal `expected`.
 */
export async function countsReach(
  url: string,
  selector: string,
  expected: { success: number; failure: number },
  limitMs = 120_000,
): Promise<void> {
  const count = (outcome: string) =>
    sumOf(
      url,
      `sum(last_over_time(task_duration_seconds_count{${selector}, ${OUTCOME_LABEL}="${outcome}"}[1h]))`,
    );
  let seen: unknown;
  try {
    await eventually(
      `${JSON.stringify(expected)} attempts {${selector}} at ${url}`,
      async () => {
        seen = { success: (await count('success')) ?? 0, failure: (await count('failure')) ?? 0 };
        return JSON.stringify(seen) === JSON.stringify(expected) ? true : undefined;
      },
      limitMs,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; last seen ${JSON.stringify(seen)}`);
  }
}
