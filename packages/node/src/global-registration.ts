import { context, metrics, propagation, trace } from '@opentelemetry/api';
import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';

/**
 * Registers the providers, an AsyncLocalStorage context manager and the W3C trace-context and
 * baggage propagators as the API globals. Returns `false`, leaving every global as it was, when
 * a tracer or meter provider is already registered.
 */
export function registerGlobalProviders(
  tracerProvider: TracerProvider,
  meterProvider: MeterProvider,
): boolean {
  if (!trace.setGlobalTracerProvider(tracerProvider)) return false;
  if (!metrics.setGlobalMeterProvider(meterProvider)) {
    trace.disable();
    return false;
  }
  // A context manager or propagator the user set on their own stays; ours then goes unused.
  const contextManager = new AsyncLocalStorageContextManager().enable();
  if (!context.setGlobalContextManager(contextManager)) contextManager.disable();
  propagation.setGlobalPropagator(
    new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
  );
  return true;
}
