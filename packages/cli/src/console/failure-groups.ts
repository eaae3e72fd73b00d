import { findFailures } from '../commands/failures.js';
import type { TaskFailure } from '../commands/failures.js';
import { BackendUnreachableError } from '../http-json.js';
import type { JaegerClient } from '../jaeger-client.js';
import type { PrometheusClient } from '../prometheus-client.js';
import { collectFailureCounts, failedAttemptsSelector } from '../task-queries/collect.js';
import type { FailureFilter } from '../task-queries/collect.js';
import type { FailureGroup } from './api-types.js';

/** Failed attempts read from Jaeger per service and outcome, for the groups' examples. */
const EXAMPLES_PER_SEARCH = 100;

/** error.type as the metrics carry it when an attempt gave none. */
const NO_ERROR_TYPE = '_OTHER';

interface Example {
  traceId: string;
  timeMs: number;
  message: string | null;
}

function groupKey(
  service: string,
  task: string,
  queue: string,
  outcome: string,
  errorType: string,
): string {
  return JSON.stringify([service, task, queue, outcome, errorType]);
}

/**
 * The failure groups of the console's failures page: failed attempts per task and `error.type`
 * counted by Prometheus over the window, each with its newest example trace, from the failure
 * exemplars (one request for every group) or from Jaeger (one search per service and failed
 * outcome), whichever is newer; Jaeger's gives the exception message too. A Jaeger that cannot be
 * read leaves the examples to the exemplars and is returned as `jaegerProblem`.
 */
export async function failureGroups(
  prometheus: PrometheusClient,
  jaeger: JaegerClient,
  windowSeconds: number,
  filter: FailureFilter,
  endMs: number,
): Promise<{ groups: FailureGroup[]; jaegerProblem?: BackendUnreachableError }> {
  const counts = await collectFailureCounts(prometheus, windowSeconds, filter, endMs);
  if (counts.length === 0) return { groups: [] };
  const startMs = endMs - windowSeconds * 1000;
  const examples = new Map<string, Example>();
  const offer = (key: string, example: Example): void => {
    const known = examples.get(key);
    if (known?.traceId === example.traceId) {
      known.message ??= example.message;
    } else if (known === undefined || example.timeMs > known.timeMs) {
      examples.set(key, example);
    }
  };

  const exemplars = await prometheus.exemplars(failedAttemptsSelector(filter), startMs, endMs);
  for (const exemplar of exemplars) {
    const labels = exemplar.seriesLabels;
    const traceId = exemplar.labels.trace_id;
    if (traceId === undefined) continue;
    const key = groupKey(
      labels.job ?? '',
      labels.task_name ?? '',
      labels.task_queue ?? '',
      labels.task_outcome ?? '',
      labels.error_type ?? NO_ERROR_TYPE,
    );
    offer(key, { traceId, timeMs: exemplar.timeMs, message: null });
  }

  let jaegerProblem: BackendUnreachableError | undefined;
  const services = [...new Set(counts.map((count) => count.service))];
  for (const service of services) {
    let failures: TaskFailure[];
    try {
      failures = await findFailures(jaeger, {
        service,
        task: filter.task,
        sinceMs: windowSeconds * 1000,
        endMs,
        limit: EXAMPLES_PER_SEARCH,
        traceUrl: (traceId) => `/traces/${traceId}`,
      });
    } catch (error) {
      if (!(error instanceof BackendUnreachableError)) throw error;
      jaegerProblem = error;
      break;
    }
    for (const failure of failures) {
      const key = groupKey(
        failure.service,
        failure.task,
        failure.queue ?? '',
        failure.outcome ?? 'failure',
        failure.errorType ?? NO_ERROR_TYPE,
      );
      // The attempt's end, when its duration was recorded with the exemplar.
      offer(key, {
        traceId: failure.traceId,
        timeMs: Date.parse(failure.time) + failure.durationMs,
        message: failure.message ?? null,
      });
    }
  }

  const groups = counts.map((count): FailureGroup => {
    const example = examples.get(
      groupKey(count.service, count.task, count.queue, count.outcome, count.errorType),
    );
    return {
      ...count,
      latestTraceId: example?.traceId ?? null,
      latestMessage: example?.message ?? null,
    };
  });
  groups.sort((a, b) => b.count - a.count || a.task.localeCompare(b.task));
  return { groups, ...(jaegerProblem === undefined ? {} : { jaegerProblem }) };
}
