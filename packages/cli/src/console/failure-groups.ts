import { ERROR_TYPE_OTHER } from '@tasklens/core';
import { findFailures } from '../commands/failures.js';
import type { TaskFailure } from '../commands/failures.js';
import { BackendUnreachableError } from '../http-json.js';
import type { JaegerClient } from '../jaeger-client.js';
import type { PrometheusClient } from '../prometheus-client.js';
import {
  collectFailureCounts,
  failedAttemptsSelector,
  failureOf,
} from '../task-queries/collect.js';
import type { FailureFilter } from '../task-queries/collect.js';
import type { FailureGroup } from './api-types.js';

/** Failed attempts read from Jaeger per service and outcome, for the groups' examples. */
const EXAMPLES_PER_SEARCH = 100;

interface Example {
  traceId: string;
  timeMs: number;
  message: string | null;
}

/** What tells failure groups apart; Jaeger's spans do not say their messaging system. */
type GroupFields = Pick<FailureGroup, 'service' | 'task' | 'queue' | 'outcome' | 'errorType'>;

function groupKey({ service, task, queue, outcome, errorType }: GroupFields): string {
  return JSON.stringify([service, task, queue, outcome, errorType]);
}

/** A failed attempt as Jaeger lists it, by the fields of its group. */
function groupOf(failure: TaskFailure): GroupFields {
  return {
    service: failure.service,
    task: failure.task,
    queue: failure.queue ?? '',
    outcome: failure.outcome ?? 'failure',
    errorType: failure.errorType ?? ERROR_TYPE_OTHER,
  };
}

/**
 * The failure groups of the console's failures page: failed attempts per task and `error.type`
 * counted by Prometheus over the window, each with its newest example trace, from the failure
 * exemplars (one request for every group, sent with the counts) or from Jaeger (one search per
 * service and failed outcome, the services at once), whichever is newer; Jaeger's gives the
 * exception message too. A Jaeger that cannot be read leaves the examples to the exemplars and is
 * returned as `jaegerProblem`.
 */
export async function failureGroups(
  prometheus: PrometheusClient,
  jaeger: JaegerClient,
  windowSeconds: number,
  filter: FailureFilter,
  endMs: number,
): Promise<{ groups: FailureGroup[]; jaegerProblem?: BackendUnreachableError }> {
  const startMs = endMs - windowSeconds * 1000;
  const [counts, exemplars] = await Promise.all([
    collectFailureCounts(prometheus, windowSeconds, filter, endMs),
    prometheus.exemplars(failedAttemptsSelector(filter), startMs, endMs),
  ]);
  if (counts.length === 0) return { groups: [] };
  const examples = new Map<string, Example>();
  const offer = (group: GroupFields, example: Example): void => {
    const key = groupKey(group);
    const known = examples.get(key);
    if (known?.traceId === example.traceId) {
      known.message ??= example.message;
    } else if (known === undefined || example.timeMs > known.timeMs) {
      examples.set(key, example);
    }
  };

  for (const exemplar of exemplars) {
    const traceId = exemplar.labels.trace_id;
    if (traceId === undefined) continue;
    offer(failureOf(exemplar.seriesLabels), { traceId, timeMs: exemplar.timeMs, message: null });
  }

  let jaegerProblem: BackendUnreachableError | undefined;
  const services = [...new Set(counts.map((count) => count.service))];
  const searches = await Promise.allSettled(
    services.map((service) =>
      findFailures(jaeger, {
        service,
        task: filter.task,
        sinceMs: windowSeconds * 1000,
        endMs,
        limit: EXAMPLES_PER_SEARCH,
        traceUrl: (traceId) => `/traces/${traceId}`,
      }),
    ),
  );
  for (const search of searches) {
    if (search.status === 'rejected') {
      if (!(search.reason instanceof BackendUnreachableError)) throw search.reason;
      jaegerProblem = search.reason;
      continue;
    }
    for (const failure of search.value) {
      // The attempt's end, when its duration was recorded with the exemplar.
      offer(groupOf(failure), {
        traceId: failure.traceId,
        timeMs: Date.parse(failure.time) + failure.durationMs,
        message: failure.message ?? null,
      });
    }
  }

  const groups = counts.map((count): FailureGroup => {
    const example = examples.get(groupKey(count));
    return {
      ...count,
      latestTraceId: example?.traceId ?? null,
      latestMessage: example?.message ?? null,
    };
  });
  return { groups, ...(jaegerProblem === undefined ? {} : { jaegerProblem }) };
}
