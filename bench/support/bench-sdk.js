// The SDK every tasklens benchmark runs with: the real providers, a BatchSpanProcessor and a
// periodic metric reader, exporting to no-op exporters, so the cost measured is the
// instrumentation's and the SDK's, not a network's.
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  ExportResultCode,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import {
  AggregationTemporality,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { TracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace';

const succeed = (_items, resultCallback) => resultCallback({ code: ExportResultCode.SUCCESS });

/** Registers the benchmark SDK globally; returns a function that unregisters it. */
export function startBenchSdk() {
  const tracerProvider = new TracerProvider({
    spanProcessors: [
      new BatchSpanProcessor({ exporter: { export: succeed, shutdown: () => Promise.resolve() } }),
    ],
  });
  const meterProvider = new MeterProvider({
    readers: [
      new PeriodicExportingMetricReader({
        exporter: {
          export: succeed,
          forceFlush: () => Promise.resolve(),
          shutdown: () => Promise.resolve(),
          selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
        },
        exportIntervalMillis: 10_000,
      }),
    ],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
  );
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  return async function stopBenchSdk() {
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
    trace.disable();
    metrics.disable();
    propagation.disable();
    context.disable();
  };
}
