import { context, diag, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import { currentTaskInstruments } from './task-metrics.js';
import { ATTR_CARRIER_REJECT_REASON, ATTR_TASK_NAME } from './semconv.js';
import { fastTraceparentContext } from './traceparent.js';
import type { TaskCarrier } from './types.js';

/** Carrier key holding the enqueue time, in milliseconds since the epoch. */
export const ENQUEUED_AT_KEY = 'tasklens-enqueued-at';

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
  | 'malformed-enqueued-at';

/** What a consumer learns from a carrier. */
export interface ExtractedCarrier {
  /** The producer's context (trace context and baggage), when the carrier held a valid one. */
  context: Context | undefined;
  /** Enqueue time in milliseconds since the epoch, when the carrier held a valid one. */
  enqueuedAt: number | undefined;
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
 * Writes the active trace context, baggage and the enqueue time into `carrier` (a new object by
 * default) with the globally registered propagator, and returns it.
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

/**
 * Extracts the producer's context and enqueue time from an untrusted carrier. Never throws:
 * a missing carrier gives nothing; a malformed, oversized or hostile one gives nothing either,
 * counted in `task.carrier.rejected` with one warning per kind of problem.
 */
export function extractTaskCarrier(carrier: unknown, taskName?: string): ExtractedCarrier {
  const none: ExtractedCarrier = { context: undefined, enqueuedAt: undefined };
  if (carrier === undefined || carrier === null) return none;
  if (typeof carrier !== 'object' || Array.isArray(carrier)) {
    reject('not-an-object', taskName);
    return none;
  }
  try {
    const enqueuedAtField = readField(carrier, ENQUEUED_AT_KEY);
    let enqueuedAt: number | undefined;
    if (typeof enqueuedAtField === 'string' && ENQUEUED_AT_PATTERN.test(enqueuedAtField)) {
      enqueuedAt = Number(enqueuedAtField);
    } else if (enqueuedAtField !== undefined) {
      reject('malformed-enqueued-at', taskName);
    }

    // Only the registered propagator's own field names are copied, so a plain object is safe.
    const clean: TaskCarrier = {};
    let copied = 0;
    const fields = propagation.fields();
    for (const field of fields) {
      const value = readField(carrier, field);
      if (value === undefined) continue;
      if (typeof value !== 'string') {
        reject(value.reason, taskName);
        return { context: undefined, enqueuedAt };
      }
      clean[field] = value;
      copied++;
    }
    if (copied === 0) return { context: undefined, enqueuedAt };
    if (copied === 1 && clean.traceparent !== undefined) {
      const fast = fastTraceparentContext(clean.traceparent, fields);
      if (fast !== undefined) return { context: fast, enqueuedAt };
    }

    const extracted = propagation.extract(ROOT_CONTEXT, clean);
    if (clean.traceparent !== undefined && trace.getSpanContext(extracted) === undefined) {
      reject('malformed-traceparent', taskName);
      return { context: undefined, enqueuedAt };
    }
    return { context: extracted, enqueuedAt };
  } catch {
    reject('unreadable', taskName);
    return none;
  }
}
