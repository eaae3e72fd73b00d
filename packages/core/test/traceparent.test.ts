import { propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { Context, TextMapPropagator } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { extractTaskCarrier } from '@tasklens/core';
import { registerSdk } from '@tasklens/test-utils';

const sdk = registerSdk();
afterAll(() => sdk.shutdown());

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SPAN = 'b7ad6b7169203331';

// Every form the fast path reads, and the near misses it must leave to the propagator.
const values = [
  `00-${TRACE}-${SPAN}-01`,
  `00-${TRACE}-${SPAN}-00`,
  `00-${TRACE}-${SPAN}-ff`,
  `00-${TRACE}-${SPAN}-0a`,
  `00-${TRACE}-${SPAN}-0A`,
  `00-${TRACE.toUpperCase()}-${SPAN}-01`,
  `00-${TRACE}-${SPAN.toUpperCase()}-01`,
  `00-${'0'.repeat(32)}-${SPAN}-01`,
  `00-${TRACE}-${'0'.repeat(16)}-01`,
  `00-${TRACE.slice(0, 31)}g-${SPAN}-01`,
  `00-${TRACE}-${SPAN}-0g`,
  `00_${TRACE}-${SPAN}-01`,
  `01-${TRACE}-${SPAN}-01`,
  `ff-${TRACE}-${SPAN}-01`,
  `01-${TRACE}-${SPAN}-01-future`,
  `00-${TRACE}-${SPAN}-01-extra`,
  ` 00-${TRACE}-${SPAN}-01`,
  `00-${TRACE}-${SPAN}-01 `,
  `00-${TRACE}-${SPAN}-1`,
  '',
];

/** What the registered propagator alone makes of a carrier holding `traceparent`. */
function propagatorsSpanContext(traceparent: string) {
  return trace.getSpanContext(propagation.extract(ROOT_CONTEXT, { traceparent }));
}

function extractedSpanContext(traceparent: string) {
  const { context } = extractTaskCarrier({ traceparent });
  return context === undefined ? undefined : trace.getSpanContext(context);
}

describe('reading traceparent without the propagator', () => {
  it.each(values)('gives what the W3C propagator gives for %j', (traceparent) => {
    expect(extractedSpanContext(traceparent)).toStrictEqual(propagatorsSpanContext(traceparent));
  });

  it('asks a propagator that reads other fields, whatever the carrier holds', () => {
    const seen: string[] = [];
    const custom: TextMapPropagator = {
      inject: () => undefined,
      extract(context: Context, carrier: unknown) {
        const value = (carrier as Record<string, string>).traceparent;
        seen.push(value);
        // A propagator with its own reading of the field: the trace id reversed.
        return trace.setSpanContext(context, {
          traceId: value.slice(3, 35).split('').reverse().join(''),
          spanId: value.slice(36, 52),
          traceFlags: 1,
          isRemote: true,
        });
      },
      fields: () => ['traceparent', 'x-custom'],
    };
    sdk.unregister();
    propagation.setGlobalPropagator(custom);
    try {
      const traceparent = `00-${TRACE}-${SPAN}-01`;
      expect(extractedSpanContext(traceparent)?.traceId).toBe(TRACE.split('').reverse().join(''));
      expect(seen).toEqual([traceparent]);
    } finally {
      propagation.disable();
      sdk.register();
    }
    expect(extractedSpanContext(`00-${TRACE}-${SPAN}-01`)?.traceId).toBe(TRACE);
  });
});
