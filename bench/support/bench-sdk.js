// The SDK the benchmarks measure with: a BatchSpanProcessor and a periodic metric reader over
// exporters that keep nothing, async-local context, W3C propagators, and the task histograms kept
// by tasklens as @tasklens/node's `startTelemetry()` sets them up, made ONCE per process and registered around each sample that needs
// it, unregistered for the samples that run without an SDK. It is never shut down: its timers are
// unref'd and its exporters keep nothing, so the process ends as it would without it.
//
// Why once: a tracer taken before any SDK is registered (tasklens's own, taken when its module
// loads, as a library's is) is an API proxy that binds to the first provider registered and keeps
// it. With a new SDK per sample, every sample after the first would send tasklens's spans to a
// provider already shut down, which ends them without queueing or exporting them: cheaper than
// the real thing, and not what the hand-rolled variants (whose tracers are taken while an SDK is
// registered) pay.
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { registerSdk } from '@tasklens/test-utils';

let sdk;
let registered = false;

/**
 * Registers the benchmark SDK as the global providers, context manager and propagator (made on
 * the first call, the same objects after). Resolves the returned function to unregister it, after
 * the spans it holds are exported.
 */
export function registerBenchSdk() {
  if (registered) throw new Error('the benchmark SDK is already registered');
  registered = true;
  if (sdk === undefined) {
    sdk = registerSdk({
      spanProcessor: 'batch',
      spanExporter: 'discard',
      metricReader: 'periodic',
      taskHistograms: 'tasklens',
    });
  } else {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(
      new CompositePropagator({
        propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
      }),
    );
    trace.setGlobalTracerProvider(sdk.tracerProvider);
    metrics.setGlobalMeterProvider(sdk.meterProvider);
  }
  return async () => {
    await sdk.forceFlush();
    trace.disable();
    metrics.disable();
    propagation.disable();
    context.disable();
    registered = false;
  };
}
