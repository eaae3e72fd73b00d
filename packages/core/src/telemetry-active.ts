import { ProxyTracerProvider, trace } from '@opentelemetry/api';
import { currentTaskInstruments } from './task-metrics.js';

const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * Whether any OpenTelemetry SDK listens (a tracer or a meter provider is registered). Without one
 * a task needs no instrumentation work at all: adapters check this first so that an
 * uninstrumented process pays next to nothing. Cheap; checked per task because an SDK may be
 * registered after the first one.
 */
export function isTelemetryActive(): boolean {
  const provider = trace.getTracerProvider();
  const delegate = provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider;
  return delegate !== NOOP_TRACER_PROVIDER || currentTaskInstruments() !== undefined;
}
