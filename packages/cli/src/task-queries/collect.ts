/**
 * The numbers of `tasklens stats` and of the console (`tasklens ui`), read from Prometheus with
 * the query definitions of ./task-queries/measures.ts (which the Grafana dashboard and the
 * recording rules are rendered from too, ./task-queries/deploy-queries.ts). Each function sends a fixed number of requests, however many tasks
 * there are.
 */
import { ERROR_TYPE_OTHER } from '@tasklens/core';
import type { FailureGroup, TaskKey, TaskRow, TaskSeriesBody } from '../console/api-types.js';
import type { PrometheusClient, PrometheusSample } from '../prometheus-client.js';
import {
  durationQuantile,
  ERROR_TYPE_LABEL,
  failedAttemptBuckets,
  failedAttemptsByError,
  failurePercent,
  failuresPerSecond,
  inFlight,
  lastSuccessAge,
  MESSAGING_SYSTEM_LABEL,
  oldestWaitingAge,
  p95Chain,
  p95Wait,
  QUEUE_LABELS,
  queueDepth,
  runs,
  runsPerSecond,
  secondsWindow,
  SERVICE_LABEL,
  TASK_NAME_LABEL,
  TASK_OUTCOME_LABEL,
  TASK_QUEUE_LABEL,
  TASK_ROW_LABELS,
} from './measures.js';
import type { LabelMatcher, QueryScope } from './measures.js';

/** Which tasks to read: each field given must equal the task's (an empty queue or system: none). */
export type TaskFilter = { [Field in keyof TaskKey]?: string | undefined };

/** Which failed attempts to read: a {@link TaskFilter} and optionally one failed outcome. */
export interface FailureFilter extends TaskFilter {
  /** `failure` or `timeout`. */
  outcome?: string | undefined;
}

/** The columns of a task row read per queue (queue and messaging system), not per task. */
type QueueMeasure = 'waiting' | 'oldestWaitingAgeSeconds';
type RowMeasure = Exclude<keyof TaskRow, keyof TaskKey | QueueMeasure>;

/** The exact-match label matchers of a filter. */
export function filterMatchers(filter: FailureFilter = {}): LabelMatcher[] {
  const fields: [keyof FailureFilter, string][] = [
    ['service', SERVICE_LABEL],
    ['task', TASK_NAME_LABEL],
    ['queue', TASK_QUEUE_LABEL],
    ['system', MESSAGING_SYSTEM_LABEL],
    ['outcome', TASK_OUTCOME_LABEL],
  ];
  return fields.flatMap(([field, label]) => {
    const value = filter[field];
    // JSON's string escapes are PromQL's: quotes and backslashes in a value stay literal.
    return value === undefined
      ? []
      : [{ label, op: '=', value: JSON.stringify(value).slice(1, -1) }];
  });
}

/**
 * The PromQL of each task row column over the last `windowSeconds`, one result series per task
 * (job, task_name, task_queue, messaging_system); in-flight and chain latency are kept per job,
 * task name and queue, the last success per job and task name (their metrics have no more labels).
 */
export function taskRowQueries(
  windowSeconds: number,
  filter?: TaskFilter,
): Record<RowMeasure, string> {
  const scope: QueryScope = {
    matchers: filterMatchers(filter),
    by: TASK_ROW_LABELS,
    window: secondsWindow(windowSeconds),
  };
  return {
    runs: runs(scope),
    ratePerSecond: runsPerSecond(scope),
    failurePercent: failurePercent(scope),
    p50DurationSeconds: durationQuantile(0.5, scope),
    p95DurationSeconds: durationQuantile(0.95, scope),
    p95WaitSeconds: p95Wait(scope),
    p95PipelineSeconds: p95Chain(scope),
    inFlight: inFlight(scope),
    lastSuccessAgeSeconds: lastSuccessAge(scope),
  };
}

/**
 * The PromQL of the queue columns of the task rows, one result series per queue and messaging
 * system, now (the queue depth gauges are read as they are, whatever the window): the largest
 * reading of the processes that poll the queue. A task or service filter does not apply (the
 * gauges have no task label, and any service may poll a queue); queue and system filters do.
 */
export function queueRowQueries(filter?: TaskFilter): Record<QueueMeasure, string> {
  const scope: QueryScope = {
    matchers: filterMatchers({ queue: filter?.queue, system: filter?.system }),
    by: QUEUE_LABELS,
    window: secondsWindow(60),
  };
  return {
    waiting: queueDepth('waiting', scope),
    oldestWaitingAgeSeconds: oldestWaitingAge(scope),
  };
}

function keyOf(labels: Record<string, string>): TaskKey {
  return {
    service: labels[SERVICE_LABEL] ?? '',
    task: labels[TASK_NAME_LABEL] ?? '',
    queue: labels[TASK_QUEUE_LABEL] ?? '',
    system: labels[MESSAGING_SYSTEM_LABEL] ?? '',
  };
}

function keyString(key: TaskKey): string {
  return [key.service, key.task, key.queue, key.system].join('\u0000');
}

function finite(value: number): number | null {
  return Number.isNaN(value) ? null : value;
}

function emptyRow(key: TaskKey): TaskRow {
  return {
    ...key,
    runs: null,
    ratePerSecond: null,
    failurePercent: null,
    p50DurationSeconds: null,
    p95DurationSeconds: null,
    p95WaitSeconds: null,
    p95PipelineSeconds: null,
    inFlight: null,
    lastSuccessAgeSeconds: null,
    waiting: null,
    oldestWaitingAgeSeconds: null,
  };
}

/**
 * One row per task (service, task name, queue, messaging system) over the last `windowSeconds`:
 * the rows of `tasklens stats --json` and of the console's tasks page. Sends 11 instant queries
 * at once, one per column. A task appears when any column has data for it; in-flight and chain
 * latency (no messaging_system label) go to every row of the same job, task and queue, the last
 * success to every row of the same job and task, the queue's waiting tasks and oldest waiting
 * age ({@link queueRowQueries}) to every row of the same queue and messaging system; a value
 * with no such row makes a row of its own with the labels its metric lacks left empty (so a
 * queue with a backlog and no attempt in the window has a row), unless a task or service filter
 * excludes it.
 *
 * @param windowSeconds - the window, e.g. 3600 for the last hour
 * @param filter - only tasks whose fields equal these
 * @param at - when to evaluate (default: now)
 * @example
 * const rows = await collectTaskRows(new PrometheusClient('http://127.0.0.1:9090'), 3600);
 */
export async function collectTaskRows(
  client: PrometheusClient,
  windowSeconds: number,
  filter?: TaskFilter,
  at?: Date,
): Promise<TaskRow[]> {
  const queries = Object.entries(taskRowQueries(windowSeconds, filter)) as [RowMeasure, string][];
  const queueQueries = Object.entries(queueRowQueries(filter)) as [QueueMeasure, string][];
  const [results, queueResults] = await Promise.all([
    Promise.all(queries.map(([, expression]) => client.query(expression, at))),
    Promise.all(queueQueries.map(([, expression]) => client.query(expression, at))),
  ]);
  const rows = new Map<string, TaskRow>();
  const fullKey: PrometheusSample[][] = [];
  const partialKey: [RowMeasure, PrometheusSample[]][] = [];
  queries.forEach(([measure], index) => {
    if (
      measure === 'inFlight' ||
      measure === 'p95PipelineSeconds' ||
      measure === 'lastSuccessAgeSeconds'
    ) {
      partialKey.push([measure, results[index]]);
    } else {
      fullKey.push(results[index]);
      for (const sample of results[index]) {
        const key = keyOf(sample.labels);
        const row = rows.get(keyString(key)) ?? emptyRow(key);
        row[measure] = finite(sample.value);
        rows.set(keyString(key), row);
      }
    }
  });
  for (const [measure, samples] of partialKey) {
    for (const sample of samples) {
      const key = keyOf(sample.labels);
      const matches = (row: TaskRow): boolean =>
        row.service === key.service &&
        row.task === key.task &&
        (measure === 'lastSuccessAgeSeconds' || row.queue === key.queue);
      let matching = [...rows.values()].filter(matches);
      if (matching.length === 0) {
        const row = emptyRow(key);
        rows.set(keyString(key), row);
        matching = [row];
      }
      for (const row of matching) row[measure] = finite(sample.value);
    }
  }
  const queueRowsAllowed = filter?.task === undefined && filter?.service === undefined;
  queueQueries.forEach(([measure], index) => {
    for (const sample of queueResults[index]) {
      const { queue, system } = keyOf(sample.labels);
      let matching = [...rows.values()].filter(
        (row) => row.queue === queue && row.system === system,
      );
      if (matching.length === 0 && queueRowsAllowed) {
        const row = emptyRow({ service: '', task: '', queue, system });
        rows.set(keyString(row), row);
        matching = [row];
      }
      for (const row of matching) row[measure] = finite(sample.value);
    }
  });
  return [...rows.values()].sort(
    (a, b) =>
      a.task.localeCompare(b.task) ||
      a.service.localeCompare(b.service) ||
      a.queue.localeCompare(b.queue) ||
      a.system.localeCompare(b.system),
  );
}

/**
 * The step of the console's charts over `rangeSeconds`: a whole number of minutes giving at most
 * 120 points (60 s up to 2 h, 180 s for 6 h, 720 s for 24 h, 5040 s for 7 d). Each point is the
 * growth over the step before it, so the points of a chart tile the range.
 */
export function seriesStepSeconds(rangeSeconds: number): number {
  return 60 * Math.max(1, Math.ceil(rangeSeconds / 120 / 60));
}

/** The PromQL of each chart of one task, every point over the `stepSeconds` before it. */
export function taskSeriesQueries(
  stepSeconds: number,
  key: TaskKey,
): Record<Exclude<keyof TaskSeriesBody, 'range' | 'task' | 'stepSeconds' | 'timestamps'>, string> {
  const scope: QueryScope = {
    matchers: filterMatchers(key),
    by: [],
    window: secondsWindow(stepSeconds),
  };
  return {
    runsPerSecond: runsPerSecond(scope),
    failuresPerSecond: failuresPerSecond(scope),
    p50DurationSeconds: durationQuantile(0.5, scope),
    p95DurationSeconds: durationQuantile(0.95, scope),
    p95WaitSeconds: p95Wait(scope),
  };
}

/**
 * The points of a range query: from `end - range + step` to `end` (to the millisecond), so the
 * last point holds what arrived in the last step, however recent.
 */
function chartPoints(rangeSeconds: number, endMs: number, stepSeconds: number): number[] {
  const end = Math.floor(endMs) / 1000;
  const count = Math.floor(rangeSeconds / stepSeconds);
  return Array.from({ length: count }, (_unused, index) => end - (count - 1 - index) * stepSeconds);
}

/**
 * The charts of one task over the `rangeSeconds` before `endMs`: 5 range queries at once, at
 * {@link seriesStepSeconds}, the last point at `endMs`: the points tile the range, so they add up
 * to its runs. A point without data is null.
 *
 * @example
 * const charts = await collectTaskSeries(client, 3600, { service: 'worker', task: 'send-email', queue: 'email', system: 'bullmq' }, Date.now());
 */
export async function collectTaskSeries(
  client: PrometheusClient,
  rangeSeconds: number,
  key: TaskKey,
  endMs: number,
): Promise<Omit<TaskSeriesBody, 'range' | 'task'>> {
  const stepSeconds = seriesStepSeconds(rangeSeconds);
  const timestamps = chartPoints(rangeSeconds, endMs, stepSeconds);
  const queries = Object.entries(taskSeriesQueries(stepSeconds, key)) as [
    keyof ReturnType<typeof taskSeriesQueries>,
    string,
  ][];
  const start = new Date(timestamps[0] * 1000);
  const end = new Date(timestamps[timestamps.length - 1] * 1000);
  const results = await Promise.all(
    queries.map(([, expression]) => client.queryRange(expression, start, end, stepSeconds)),
  );
  const columns = Object.fromEntries(
    queries.map(([name], index) => {
      const byTime = new Map<number, number>();
      // One series at most: the query sums over everything the key selects.
      for (const series of results[index]) {
        for (const [time, value] of series.values) byTime.set(Math.round(time * 1000), value);
      }
      const column = timestamps.map((time) => {
        const value = byTime.get(Math.round(time * 1000));
        return value === undefined ? null : finite(value);
      });
      return [name, column];
    }),
  ) as Record<(typeof queries)[number][0], (number | null)[]>;
  return { stepSeconds, timestamps, ...columns };
}

/** The failed attempts of one task with one outcome and error type, over a window. */
export interface FailureCount extends TaskKey {
  /** `failure` or `timeout`. */
  outcome: FailureGroup['outcome'];
  /** error.type (`_OTHER` where the attempt gave none). */
  errorType: string;
  /** Failed attempts in the window, as {@link collectTaskRows} counts runs. */
  count: number;
  /** End of the first and last query step in which the count grew (Unix ms). */
  firstSeen: number | null;
  lastSeen: number | null;
}

/**
 * The PromQL of the failure counts: `count`, the growth over the window (an instant query), and
 * `perStep`, the growth over each step before a point (a range query at `stepSeconds`).
 */
export function failureCountQueries(
  windowSeconds: number,
  stepSeconds: number,
  filter?: FailureFilter,
): { count: string; perStep: string } {
  const matchers = filterMatchers(filter);
  return {
    count: failedAttemptsByError({
      matchers,
      by: TASK_ROW_LABELS,
      window: secondsWindow(windowSeconds),
    }),
    perStep: failedAttemptsByError({
      matchers,
      by: TASK_ROW_LABELS,
      window: secondsWindow(stepSeconds),
    }),
  };
}

/** The task, outcome and error type of a series of failed attempts, from its labels. */
export function failureOf(
  labels: Record<string, string>,
): TaskKey & Pick<FailureCount, 'outcome' | 'errorType'> {
  return {
    ...keyOf(labels),
    outcome: labels[TASK_OUTCOME_LABEL] ?? '',
    errorType: labels[ERROR_TYPE_LABEL] ?? ERROR_TYPE_OTHER,
  };
}

function failureKey(labels: Record<string, string>): string {
  return `${keyString(keyOf(labels))}\u0000${labels[TASK_OUTCOME_LABEL] ?? ''}\u0000${labels[ERROR_TYPE_LABEL] ?? ''}`;
}

/**
 * Failed attempts (failure, timeout, lost) over the `windowSeconds` before `endMs`, per task, outcome and
 * error type, largest count first. Sends 2 requests at once: the counts (an instant query of the
 * same growth stats counts runs with) and one range query over the window at
 * {@link seriesStepSeconds} steps, whose first and last step with growth give `firstSeen` and
 * `lastSeen` to the query step (a series born inside the window grows from zero).
 *
 * @param filter - only these tasks, and only this outcome if given
 * @param endMs - the end of the window, Unix ms (default: now)
 */
export async function collectFailureCounts(
  client: PrometheusClient,
  windowSeconds: number,
  filter?: FailureFilter,
  endMs: number = Date.now(),
): Promise<FailureCount[]> {
  const at = new Date(endMs);
  const stepSeconds = seriesStepSeconds(windowSeconds);
  const queries = failureCountQueries(windowSeconds, stepSeconds, filter);
  const endSeconds = at.getTime() / 1000;
  const steps = Math.floor(windowSeconds / stepSeconds);
  const [counts, perStep] = await Promise.all([
    client.query(queries.count, at),
    client.queryRange(
      queries.perStep,
      new Date((endSeconds - (steps - 1) * stepSeconds) * 1000),
      at,
      stepSeconds,
    ),
  ]);
  const seen = new Map<string, { first: number; last: number }>();
  for (const series of perStep) {
    const grew = series.values.filter(([, value]) => value > 0).map(([time]) => time * 1000);
    if (grew.length > 0) {
      seen.set(failureKey(series.labels), { first: grew[0], last: grew[grew.length - 1] });
    }
  }
  return counts
    .filter((sample) => sample.value > 0)
    .map((sample) => {
      const times = seen.get(failureKey(sample.labels));
      return {
        ...failureOf(sample.labels),
        count: sample.value,
        firstSeen: times?.first ?? null,
        lastSeen: times?.last ?? null,
      };
    })
    .sort((a, b) => b.count - a.count || a.task.localeCompare(b.task));
}

/**
 * The bucket series of failed attempts (failure, timeout, lost) the filter selects: where their
 * exemplars (trace ids) are, for Prometheus's exemplar API.
 */
export function failedAttemptsSelector(filter?: FailureFilter): string {
  return failedAttemptBuckets(filterMatchers(filter));
}
