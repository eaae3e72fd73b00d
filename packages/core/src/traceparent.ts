import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';

/** The fields of the W3C trace-context and baggage propagators, the SDK's default pair. */
const W3C_FIELDS = new Set(['traceparent', 'tracestate', 'baggage']);

let checkedFields: readonly string[] | undefined;
let fieldsAreW3c = false;

/**
 * Whether the registered propagator reads no field but W3C trace context's and baggage's, so that
 * a carrier holding only `traceparent` means to it exactly what the W3C specification says. A
 * propagator keeps its field list (the SDK's composite returns the same array every time), so the
 * answer is kept per list.
 */
function propagatorIsW3c(fields: readonly string[]): boolean {
  if (fields !== checkedFields) {
    checkedFields = fields;
    fieldsAreW3c = fields.includes('traceparent') && fields.every((field) => W3C_FIELDS.has(field));
  }
  return fieldsAreW3c;
}

const TRACEPARENT_LENGTH = 55;

/** Whether `value[start, end)` is lowercase hex and not all zeros (a valid id). */
function isHexId(value: string, start: number, end: number): boolean {
  let nonZero = false;
  for (let index = start; index < end; index++) {
    const code = value.charCodeAt(index);
    if (code >= 48 && code <= 57) {
      if (code !== 48) nonZero = true;
    } else if (code >= 97 && code <= 102) {
      nonZero = true;
    } else {
      return false;
    }
  }
  return nonZero;
}

function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/**
 * The context a version-00 `traceparent` alone gives, read without the propagator's regular
 * expression: the remote span context the W3C propagator would extract from it. `undefined` when
 * the registered propagator is not W3C's or the value is not the plain 55-character version-00
 * form (whitespace, other versions, invalid values), so that the caller asks the propagator: this
 * only skips work, never decides differently.
 */
export function fastTraceparentContext(
  traceparent: string,
  fields: readonly string[],
): Context | undefined {
  if (traceparent.length !== TRACEPARENT_LENGTH || !propagatorIsW3c(fields)) return undefined;
  if (
    traceparent.charCodeAt(0) !== 48 ||
    traceparent.charCodeAt(1) !== 48 ||
    traceparent.charCodeAt(2) !== 45 ||
    traceparent.charCodeAt(35) !== 45 ||
    traceparent.charCodeAt(52) !== 45 ||
    !isHexId(traceparent, 3, 35) ||
    !isHexId(traceparent, 36, 52)
  ) {
    return undefined;
  }
  const high = hexDigit(traceparent.charCodeAt(53));
  const low = hexDigit(traceparent.charCodeAt(54));
  if (high < 0 || low < 0) return undefined;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: traceparent.slice(3, 35),
    spanId: traceparent.slice(36, 52),
    traceFlags: high * 16 + low,
    isRemote: true,
  });
}
