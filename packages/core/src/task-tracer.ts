import { ProxyTracerProvider, trace } from '@opentelemetry/api';
import type { Tracer, TracerProvider } from '@opentelemetry/api';
import { SCOPE_NAME, SCOPE_VERSION } from './version.js';

const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();

/** The tracer provider an SDK registered, or the API's no-op one. */
export function registeredTracerProvider(): TracerProvider {
  const provider = trace.getTracerProvider();
  return provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider;
}

/** Whether a tracer provider is registered. */
export function isTracingRegistered(): boolean {
  return registeredTracerProvider() !== NOOP_TRACER_PROVIDER;
}

let cached: { provider: TracerProvider; tracer: Tracer } | undefined;

/**
 * The tracer of tasklens spans, from the tracer provider registered now: a tracer taken once
 * (`trace.getTracer` at load) would keep the first provider ever registered, even after it is
 * shut down and another one registered.
 */
export function currentTaskTracer(): Tracer {
  const provider = registeredTracerProvider();
  if (cached?.provider !== provider) {
    cached = { provider, tracer: provider.getTracer(SCOPE_NAME, SCOPE_VERSION) };
  }
  return cached.tracer;
}
