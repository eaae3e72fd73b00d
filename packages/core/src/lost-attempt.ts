import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes, Context, Link } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_TASK_ATTEMPT,
  ATTR_TASK_LOST_END_ESTIMATED,
  ATTR_TASK_LOST_START_ESTIMATED,
  ATTR_TASK_OUTCOME,
  ATTR_TASK_RETRYING,
} from './semconv.js';
import type { TaskInstruments } from './task-metrics.js';
import type { TaskSeries } from './task-series.js';
import { currentTaskTracer } from './task-tracer.js';
import type { LostAttempt, LostAttemptCause } from './types.js';

const HOW_FOUND: Record<LostAttemptCause, string> = {
  stalled: 'its lock expired and the queue moved the job back to wait (stalled)',
  redelivered: 'the broker delivered the message again and no consumer of this process settled it',
  ack_wait_expired: 'its message was not acknowledged within the ack wait and came again',
};

/** Where the attempt that found the loss goes: the lost one goes beside it. */
export interface LostAttemptPlacement {
  spanName: string;
  /** The new attempt's span attributes (copied, not changed). */
  attributes: Attributes;
  parent: Context;
  links: Link[] | undefined;
  /** When the task became due or was enqueued (ms since the epoch), when known. */
  waitStartedAt: number | undefined;
}

function usable(timeMs: number | undefined): number | undefined {
  return timeMs !== undefined && Number.isFinite(timeMs) ? timeMs : undefined;
}

/**
 * Records an attempt that never ended: a CONSUMER span from its start to its end (as well as the
 * broker tells them, estimates flagged), ERROR status, outcome `lost`, `error.type` the way it
 * was found, marked retrying (the broker delivered it again); counted in `task.duration`'s
 * failure series and in `task.retries`. Never throws into the caller's delivery: the caller
 * guards it as it guards the attempt's start.
 */
export function recordLostAttempt(
  lost: LostAttempt,
  placement: LostAttemptPlacement,
  series: TaskSeries,
  instruments: TaskInstruments | undefined,
): void {
  const foundAt = Date.now();
  const startedAt = usable(lost.startedAt) ?? usable(placement.waitStartedAt) ?? foundAt;
  const endedAt = Math.max(usable(lost.endedAt) ?? foundAt, startedAt);
  const attributes: Attributes = {
    ...placement.attributes,
    [ATTR_TASK_ATTEMPT]: lost.attempt,
    [ATTR_TASK_OUTCOME]: 'lost',
    [ATTR_ERROR_TYPE]: lost.cause,
    [ATTR_TASK_RETRYING]: true,
  };
  if (lost.startExact !== true || usable(lost.startedAt) === undefined) {
    attributes[ATTR_TASK_LOST_START_ESTIMATED] = true;
  }
  if (lost.endExact !== true || usable(lost.endedAt) === undefined) {
    attributes[ATTR_TASK_LOST_END_ESTIMATED] = true;
  }
  const span = currentTaskTracer().startSpan(
    placement.spanName,
    {
      kind: SpanKind.CONSUMER,
      attributes,
      // The SDK keeps the array it is given: the new attempt's span has its own.
      links: placement.links === undefined ? undefined : [...placement.links],
      startTime: startedAt,
    },
    placement.parent,
  );
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: `attempt ${lost.attempt} was lost: ${HOW_FOUND[lost.cause]}`,
  });
  span.end(endedAt);
  if (instruments === undefined) return;
  const source = {
    context: trace.setSpan(placement.parent, span),
    spanContext: span.spanContext(),
    timeMs: endedAt,
  };
  instruments.recordDuration(series, 'lost', lost.cause, (endedAt - startedAt) / 1000, source);
  instruments.retries.add(1, series.activeAttributes);
}
