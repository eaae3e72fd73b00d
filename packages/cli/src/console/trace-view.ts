import {
  ATTR_TASK_ATTEMPT,
  ATTR_TASK_NAME,
  ATTR_TASK_OUTCOME,
  ATTR_TASK_RETRYING,
} from '@tasklens/core';
import type { JaegerSpan, JaegerTrace } from '../jaeger-client.js';
import type { TraceBody, TraceSpan } from './api-types.js';

/** Tags Jaeger adds for what OTLP carries as span fields: shown as such, not as attributes. */
const SPAN_FIELD_TAGS = new Set([
  'span.kind',
  'otel.status_code',
  'otel.status_description',
  'error',
]);

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value) ?? '';
}

function tagOf(span: JaegerSpan, key: string): unknown {
  return span.tags.find((tag) => tag.key === key)?.value;
}

function statusOf(span: JaegerSpan): TraceSpan['status'] {
  const code = tagOf(span, 'otel.status_code');
  if (code === 'ERROR' || tagOf(span, 'error') === true) return 'error';
  return code === 'OK' ? 'ok' : 'unset';
}

function toSpan(trace: JaegerTrace, span: JaegerSpan): TraceSpan {
  const references = span.references ?? [];
  const parent = references.find((reference) => reference.refType === 'CHILD_OF');
  const attempt = tagOf(span, ATTR_TASK_ATTEMPT);
  const taskName = tagOf(span, ATTR_TASK_NAME);
  const outcome = tagOf(span, ATTR_TASK_OUTCOME);
  const message = tagOf(span, 'otel.status_description');
  return {
    spanId: span.spanID,
    parentSpanId: parent?.spanID ?? null,
    linkedSpanIds: references
      .filter((reference) => reference !== parent)
      .map((reference) => reference.spanID),
    name: span.operationName,
    service: trace.processes[span.processID]?.serviceName ?? 'unknown',
    kind: text(tagOf(span, 'span.kind') ?? 'internal'),
    startUs: span.startTime,
    durationUs: span.duration,
    status: statusOf(span),
    statusMessage: message === undefined ? null : text(message),
    attributes: span.tags
      .filter((tag) => !SPAN_FIELD_TAGS.has(tag.key))
      .map((tag): [string, string] => [tag.key, text(tag.value)]),
    events: (span.logs ?? []).map((log) => ({
      name: text(log.fields.find((field) => field.key === 'event')?.value ?? 'event'),
      timeUs: log.timestamp,
      attributes: log.fields
        .filter((field) => field.key !== 'event')
        .map((field): [string, string] => [field.key, text(field.value)]),
    })),
    taskName: taskName === undefined ? null : text(taskName),
    attempt: attempt === undefined || !Number.isFinite(Number(attempt)) ? null : Number(attempt),
    retrying: tagOf(span, ATTR_TASK_RETRYING) === true,
    outcome: outcome === undefined ? null : text(outcome),
  };
}

/**
 * A trace as the console's trace page draws it: spans in start order, with their task fields,
 * status, attributes and events (the exception event's message and stack among them). Its chain
 * latency is what `task.pipeline.duration` measures for the trace's last attempt: from the first
 * send (PRODUCER span) to the end of the last attempt (CONSUMER span); `null` without both.
 */
export function traceView(trace: JaegerTrace): TraceBody {
  const spans = trace.spans
    .map((span) => toSpan(trace, span))
    .sort((a, b) => a.startUs - b.startUs || a.spanId.localeCompare(b.spanId));
  const start = Math.min(...spans.map((span) => span.startUs));
  const end = Math.max(...spans.map((span) => span.startUs + span.durationUs));
  const sends = spans.filter((span) => span.kind === 'producer');
  const attempts = spans.filter((span) => span.kind === 'consumer' && span.taskName !== null);
  const chainLatencySeconds =
    sends.length === 0 || attempts.length === 0
      ? null
      : (Math.max(...attempts.map((span) => span.startUs + span.durationUs)) -
          Math.min(...sends.map((span) => span.startUs))) /
        1e6;
  return {
    traceId: trace.traceID,
    spans,
    durationUs: spans.length === 0 ? 0 : end - start,
    chainLatencySeconds,
  };
}
