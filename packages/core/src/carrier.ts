import { context, diag, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import { pipelineStartOf } from './pipeline-start.js';
import { currentTaskInstruments } from './task-metrics.js';
import { ATTR_CARRIER_REJECT_REASON, ATTR_TASK_NAME } from './semconv.js';
import { fastTraceparentContext } from './traceparent.js';
import type { TaskCarrier } from './types.js';

/** Carrier key holding the enqueue time, in milliseconds since the epoch. */
export const ENQUEUED_AT_KEY = 'tasklens-enqueued-at';

/**
 * Carrier key holding the time the task chain started (the first enqueue of a chain whose hops
 * enqueue the next), in milliseconds since the epoch; the same format as the enqueue time.
 */
export const PIPELINE_STARTED_AT_KEY = 'tasklens-pipeline-started-at';

/**
 * The keys tasklens writes into a carrier beside the propagator's fields: what an adapter copies
 * out of a message's headers along with `propagation.fields()`.
 */
export const TASKLENS_CARRIER_KEYS: readonly string[] = [ENQUEUED_AT_KEY, PIPELINE_STARTED_AT_KEY];

/** Longest carrier field accepted (the W3C baggage limit); longer ones are hostile. */
const MAX_FIELD_LENGTH = 8192;
const ENQUEUED_AT_PATTERN = /^\d{1,16}$/;

/** Why a carrier, or a field of it, was dropped. */
export type CarrierRejectReason =
  | 'not-an-object'
  | 'unreadable'
  | 'non-string-value'
  | 'oversized'
  | 'malformed-traceparent'
  | 'malformed-enqueued-at'
  | 'malformed-pipeline-started-at';

/** What a consumer learns from a carrier. */
export interface ExtractedCarrier {
  /** The producer's context (trace context and baggage), when the carrier held a valid one. */
  context: Context | undefined;
  /** Enqueue time in milliseconds since the epoch, when the carrier held a valid one. */
  enqueuedAt: number | undefined;
  /** When the task chain started, in milliseconds since the epoch, when the carrier held it. */
  pipelineStartedAt: number | undefined;
}

const warnedReasons = new Set<CarrierRejectReason>();

function reject(reason: CarrierRejectReason, taskName: string | undefined): void {
  currentTaskInstruments()?.carrierRejected.add(
    1,
    taskName === undefined
      ? { [ATTR_CARRIER_REJECT_REASON]: reason }
      : { [ATTR_CARRIER_REJECT_REASON]: reason, [ATTR_TASK_NAME]: taskName },
  );
  if (warnedReasons.has(reason)) return;
  warnedReasons.add(reason);
  diag.warn(
    `tasklens: dropped a carrier (${reason}); the task runs as a new trace. ` +
      'Further drops are counted in task.carrier.rejected without another warning.',
  );
}

/**
 * Writes the active trace context, baggage, the enqueue time and the start of the task chain into
 * `carrier` (a new object by default) with the globally registered propagator, and returns it.
 * The chain is the one `fromContext` runs in (a task attempt's); outside any, this enqueue starts
 * a new one.
 *
 * @example
 * const headers = injectTaskCarrier();
 * await publish(payload, { headers });
 */
export function injectTaskCarrier(
  carrier: TaskCarrier = {},
  fromContext: Context = context.active(),
  enqueuedAt: number = Date.now(),
): TaskCarrier {
  try {
    propagation.inject(fromContext, carrier);
    carrier[ENQUEUED_AT_KEY] = String(enqueuedAt);
    carrier[PIPELINE_STARTED_AT_KEY] = String(pipelineStartOf(fromContext) ?? enqueuedAt);
  } catch (error) {
    diag.warn('tasklens: could not inject task context into a carrier', error);
  }
  return carrier;
}

/**
 * Reads one own field of an untrusted carrier without running getters or proxies' traps twice:
 * `undefined` when absent, a rejection reason when unusable.
 */
function readField(carrier: object, key: string): string | undefined | CarrierRejection {
  const descriptor = Object.getOwnPropertyDescriptor(carrier, key);
  if (descriptor === undefined) return undefined;
  if (!('value' in descriptor)) return { reason: 'unreadable' };
  const value: unknown = descriptor.value;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') return { reason: 'non-string-value' };
  if (value.length > MAX_FIELD_LENGTH) return { reason: 'oversized' };
  return value;
}

interface CarrierRejection {
  reason: CarrierRejectReason;
}

/** A carried time field: milliseconds since the epoch as decimal digits, else a rejection. */
function readTime(
  carrier: object,
  key: string,
  reason: CarrierRejectReason,
  taskName: string | undefined,
): number | undefined {
  const field = readField(carrier, key);
  if (typeof field === 'string' && ENQUEUED_AT_PATTERN.test(field)) return Number(field);
  if (field !== undefined) reject(reason, taskName);
  return undefined;
}

const NOTHING_CARRIED: ExtractedCarrier = Object.freeze({
  context: undefined,
  enqueuedAt: undefined,
  pipelineStartedAt: undefined,
});

/**
 * Extracts the producer's context, the enqueue time and the chain's start from an untrusted
 * carrier. Never throws:
 * a missing carrier gives nothing; a malformed, oversized or hostile one gives nothing either,
 * counted in `task.carrier.rejected` with one warning per kind of problem.
 */
export function extractTaskCarrier(carrier: unknown, taskName?: string): ExtractedCarrier {
  if (carrier === undefined || carrier === null) return NOTHING_CARRIED;
  if (typeof carrier !== 'object' || Array.isArray(carrier)) {
    reject('not-an-object', taskName);
    return NOTHING_CARRIED;
  }
  try {
    const enqueuedAt = readTime(carrier, ENQUEUED_AT_KEY, 'malformed-enqueued-at', taskName);
    const pipelineStartedAt = readTime(
      carrier,
      PIPELINE_STARTED_AT_KEY,
      'malformed-pipeline-started-at',
      taskName,
    );

    // Only the registered propagator's own field names are copied, so a plain object is safe.
    const clean: TaskCarrier = {};
    let copied = 0;
    const fields = propagation.fields();
    for (const field of fields) {
      const value = readField(carrier, field);
      if (value === undefined) continue;
      if (typeof value !== 'string') {
        reject(value.reason, taskName);
        return { context: undefined, enqueuedAt, pipelineStartedAt };
      }
      clean[field] = value;
      copied++;
    }
    if (copied === 0) return { context: undefined, enqueuedAt, pipelineStartedAt };
    if (copied === 1 && clean.traceparent !== undefined) {
      const fast = fastTraceparentContext(clean.traceparent, fields);
      if (fast !== undefined) return { context: fast, enqueuedAt, pipelineStartedAt };
    }

    const extracted = propagation.extract(ROOT_CONTEXT, clean);
    if (clean.traceparent !== undefined && trace.getSpanContext(extracted) === undefined) {
      reject('malformed-traceparent', taskName);
      return { context: undefined, enqueuedAt, pipelineStartedAt };
    }
    return { context: extracted, enqueuedAt, pipelineStartedAt };
  } catch {
    reject('unreadable', taskName);
    return NOTHING_CARRIED;
  }
}
