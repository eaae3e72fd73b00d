// The SDK the benchmarks measure with: a BatchSpanProcessor and a periodic metric reader over
// exporters that keep nothing, async-local context, W3C propagators, and the task histograms kept
// by tasklens as @tasklens/node's `startTelemetry()` sets them up. Made once per process and
// registered around each sample that needs it, unregistered for the samples that run without an
// SDK; never shut down (its timers are unref'd and its exporters keep nothing). Once, because a
// hand-rolled variant's tracer, taken at load as a library's is, stays bound to the first
// provider registered: a new SDK per sample would leave it exporting to a shut-down one.
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
    sdk.register();
  }
  return async () => {
    await sdk.forceFlush();
    sdk.unregister();
    registered = false;
  };
}
