import { ENQUEUED_AT_KEY } from '@tasklens/core';
import type { TaskCarrier } from '@tasklens/core';
import { LimitedWarning } from '@tasklens/core/adapter';
import type { JobsOptions } from 'bullmq';

const unwritable = new LimitedWarning('could not put the task context into job options');

/*
 * The carrier travels in the job's `opts.telemetry.metadata`: the slot BullMQ persists (as the
 * job hash's `tm` field) for context propagation, so `job.data` stays exactly what the user
 * added. The format is the one bullmq-otel uses (a JSON object of propagation fields), so either
 * side can read what the other wrote.
 */

/** Longer metadata is not parsed: it cannot be a carrier we wrote. */
const MAX_METADATA_LENGTH = 32_768;

/**
 * Options with the carrier in their telemetry metadata; the caller's object is not modified.
 * Jobs whose options say `telemetry.omitContext` keep no context.
 */
export function withCarrier<O extends JobsOptions>(opts: O | undefined, carrier: TaskCarrier): O {
  try {
    if (opts?.telemetry?.omitContext === true) return opts;
    return {
      ...opts,
      telemetry: { ...opts?.telemetry, metadata: JSON.stringify(carrier) },
    } as O;
  } catch (error) {
    unwritable.report(error);
    return opts as O;
  }
}

/**
 * The carrier found in a job, for core to validate: a parsed object, or the raw value when it is
 * no JSON (core then rejects and counts it). Without `keepEnqueuedAt` the enqueue time is
 * dropped, so that a retry does not count earlier attempts as queue wait.
 */
export function readCarrier(opts: JobsOptions | undefined, keepEnqueuedAt: boolean): unknown {
  const metadata: unknown = opts?.telemetry?.metadata;
  if (metadata === undefined || metadata === null) return undefined;
  if (typeof metadata !== 'string' || metadata.length > MAX_METADATA_LENGTH) return metadata;
  let parsed: unknown;
  try {
    parsed = JSON.parse(metadata);
  } catch {
    return metadata;
  }
  if (!keepEnqueuedAt && typeof parsed === 'object' && parsed !== null) {
    delete (parsed as Record<string, unknown>)[ENQUEUED_AT_KEY];
  }
  return parsed;
}
