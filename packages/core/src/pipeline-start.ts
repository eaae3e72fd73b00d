import { createContextKey } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';

/*
 * The start of a task chain travels in the OpenTelemetry Context, not on spans: an attempt puts
 * its chain's start into the context its code runs in, and every carrier injected from that
 * context passes it on, whether or not a tracer records or samples anything.
 */

const PIPELINE_STARTED_AT = createContextKey('tasklens pipeline started at');

/** The start of the task chain `ctx` runs in, in milliseconds since the epoch, if any. */
export function pipelineStartOf(ctx: Context | undefined): number | undefined {
  return ctx?.getValue(PIPELINE_STARTED_AT) as number | undefined;
}

/** `ctx` in the task chain that started at `startedAt` (none: outside any chain). */
export function withPipelineStart(ctx: Context, startedAt: number | undefined): Context {
  if (startedAt !== undefined) return ctx.setValue(PIPELINE_STARTED_AT, startedAt);
  return ctx.getValue(PIPELINE_STARTED_AT) === undefined
    ? ctx
    : ctx.deleteValue(PIPELINE_STARTED_AT);
}
