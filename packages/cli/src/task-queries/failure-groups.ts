import { ERROR_TYPE_OTHER } from '@tasklens/core';
import { findFailures } from '../jaeger-failures.js';
import type { TaskFailure } from '../jaeger-failures.js';
import { BackendUnreachableError } from '../http-json.js';
import type { JaegerClient } from '../jaeger-client.js';
import type { PrometheusClient } from '../prometheus-client.js';
import type { FailureGroup } from '../console/api-types.js';
import { collectFailureCounts, failedAttemptsSelector, failureOf } from './collect.js';
import type { FailureFilter } from './collect.js';

/** Failed attempts read from Jaeger per service and outcome, for the groups' examples. */
const EXAMPLES_PER_SEARCH = 100;
/** Failed attempts read per group searched on its own (see `messageSearches`). */
const GROUP_SEARCH_LIMIT = 5;

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
 * The failure groups of the console's failures page and `tasklens failures --group-by`: failed attempts per task and `error.type`
 * counted by Prometheus over the window, each with its newest example trace, from the failure
 * exemplars (one request for every group, sent with the counts) or from Jaeger (one search per
 * service and failed outcome, the services at once), whichever is newer; Jaeger's gives the
 * exception message too. A Jaeger that cannot be read leaves the examples to the exemplars and is
 * returned as `jaegerProblem`.
 * `messageSearches` (default none; `tasklens failures --group-by` asks for 20, the console for
 * none, so that its backend requests do not grow with the groups) groups without a message get a
 * Jaeger search of their own.
 */
export async function failureGroups(
  prometheus: PrometheusClient,
  jaeger: JaegerClient,
  windowSeconds: number,
  filter: FailureFilter,
  endMs: number,
  messageSearches = 0,
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

  // Up to `messageSearches` groups whose example lacks the exception message, the largest first:
  // their own newest failures from Jaeger (the newest of a service can all be of one kind).
  if (jaegerProblem === undefined && messageSearches > 0) {
    const unexplained = counts
      .filter((count) => examples.get(groupKey(count))?.message == null)
      .sort((a, b) => b.count - a.count)
      .slice(0, messageSearches);
    const found = await Promise.allSettled(
      unexplained.map((count) =>
        findFailures(jaeger, {
          service: count.service,
          task: count.task,
          outcome: count.outcome,
          errorType: count.errorType,
          sinceMs: windowSeconds * 1000,
          endMs,
          limit: GROUP_SEARCH_LIMIT,
          traceUrl: (traceId) => `/traces/${traceId}`,
        }),
      ),
    );
    found.forEach((search, index) => {
      if (search.status === 'rejected') {
        if (!(search.reason instanceof BackendUnreachableError)) throw search.reason;
        jaegerProblem = search.reason;
        return;
      }
      const group = unexplained[index];
      const failure = search.value.find((one) => groupKey(groupOf(one)) === groupKey(group));
      if (failure?.message !== undefined) {
        examples.set(groupKey(group), {
          traceId: failure.traceId,
          timeMs: Date.parse(failure.time) + failure.durationMs,
          message: failure.message,
        });
      }
    });
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
