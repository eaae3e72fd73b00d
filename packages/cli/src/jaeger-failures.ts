/*
 * Failed task attempts as Jaeger holds them: the spans with error status and a task.name, read by
 * `tasklens failures` and, for the failure groups' examples, by the console and `--group-by`.
 */
import {
  ATTR_ERROR_TYPE,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_TASK_ATTEMPT,
  ATTR_TASK_NAME,
  ATTR_TASK_OUTCOME,
  ATTR_TASK_RETRYING,
} from '@tasklens/core';
import type { JaegerClient, JaegerSpan, JaegerTrace } from './jaeger-client.js';
import { FAILED_OUTCOMES } from './task-queries/measures.js';

/** One failed task attempt, as printed by `tasklens failures --json`. */
export interface TaskFailure {
  time: string;
  service: string;
  task: string;
  queue: string | undefined;
  attempt: number | undefined;
  retrying: boolean;
  /** task.outcome: failure, timeout or lost. */
  outcome: string | undefined;
  errorType: string | undefined;
  message: string | undefined;
  durationMs: number;
  traceId: string;
  spanId: string;
  spanName: string;
  url: string;
}

function tag(span: JaegerSpan, key: string): unknown {
  return span.tags.find((candidate) => candidate.key === key)?.value;
}

function optionalString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function toFailure(
  trace: JaegerTrace,
  span: JaegerSpan,
  traceUrl: (traceId: string) => string,
): TaskFailure {
  const attempt = tag(span, ATTR_TASK_ATTEMPT);
  return {
    time: new Date(span.startTime / 1000).toISOString(),
    service: trace.processes[span.processID]?.serviceName ?? 'unknown',
    task: optionalString(tag(span, ATTR_TASK_NAME)) ?? 'unknown',
    queue: optionalString(tag(span, ATTR_MESSAGING_DESTINATION_NAME)),
    attempt: attempt === undefined ? undefined : Number(attempt),
    retrying: tag(span, ATTR_TASK_RETRYING) === true,
    outcome: optionalString(tag(span, ATTR_TASK_OUTCOME)),
    errorType: optionalString(tag(span, ATTR_ERROR_TYPE)),
    message: optionalString(tag(span, 'otel.status_description')),
    durationMs: span.duration / 1000,
    traceId: span.traceID,
    spanId: span.spanID,
    spanName: span.operationName,
    url: traceUrl(span.traceID),
  };
}

function isFailedTaskSpan(span: JaegerSpan, task: string | undefined): boolean {
  const errorStatus = tag(span, 'error') === true || tag(span, 'otel.status_code') === 'ERROR';
  const taskName = tag(span, ATTR_TASK_NAME);
  return errorStatus && taskName !== undefined && (task === undefined || taskName === task);
}

/** Which failed attempts {@link findFailures} looks for. */
export interface FailureQuery {
  /** One service, or every service Jaeger knows. */
  service?: string | undefined;
  task?: string | undefined;
  /** Only this outcome (`failure`, `timeout` or `lost`) and error.type; default every failed one. */
  outcome?: string | undefined;
  errorType?: string | undefined;
  /** From `endMs - sinceMs` to `endMs` (default now). */
  sinceMs: number;
  endMs?: number;
  /** At most this many, and this many traces per service and outcome from Jaeger. */
  limit: number;
  /** The link of a trace (the console's trace page, else Jaeger's). */
  traceUrl: (traceId: string) => string;
}

/**
 * Failed task spans found in Jaeger, newest first, at most `limit`: one search per service and
 * failed outcome. `tasklens failures` and the console's failure groups read them alike.
 */
export async function findFailures(
  client: JaegerClient,
  query: FailureQuery,
): Promise<TaskFailure[]> {
  const services = query.service === undefined ? await client.services() : [query.service];
  const endMs = query.endMs ?? Date.now();
  const failures: TaskFailure[] = [];
  const seen = new Set<string>();
  for (const service of services) {
    for (const outcome of query.outcome === undefined ? FAILED_OUTCOMES : [query.outcome]) {
      const tags: Record<string, string> = { [ATTR_TASK_OUTCOME]: outcome };
      if (query.task !== undefined) tags[ATTR_TASK_NAME] = query.task;
      if (query.errorType !== undefined) tags[ATTR_ERROR_TYPE] = query.errorType;
      const traces = await client.findTraces(
        service,
        tags,
        endMs - query.sinceMs,
        endMs,
        query.limit,
      );
      for (const trace of traces) {
        for (const span of trace.spans) {
          if (!isFailedTaskSpan(span, query.task) || seen.has(span.spanID)) continue;
          seen.add(span.spanID);
          failures.push(toFailure(trace, span, query.traceUrl));
        }
      }
    }
  }
  return failures.sort((a, b) => b.time.localeCompare(a.time)).slice(0, query.limit);
}
